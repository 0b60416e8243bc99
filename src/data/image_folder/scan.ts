/**
 * Scanning an image folder (root/<class>/<image>.{jpg,jpeg,png}, torchvision's ImageFolder layout) into a
 * sorted file list with class labels, and a seeded split of that list.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readFailure } from '../../io/files.js';
import { hashInts, permutation, rng } from '../random.js';

/** The extensions scanImageFolder accepts by default (compared case-insensitively). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];

/** One image of a folder and its class index. */
export interface ImageFile {
  path: string;
  label: number;
}

/** A scanned folder: class names sorted (label = index) and the files, by class then by path. */
export interface ImageFolder {
  root: string;
  classes: string[];
  files: ImageFile[];
}

/** Options of {@link scanImageFolder}. */
export interface ScanOptions {
  /** Accepted file extensions, with or without the dot, any case. Default IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const hidden = (name: string) => name.startsWith('.');

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Records `dir` as scanned under its real path; throws, naming both, when that folder was scanned
 * already under another name (a symbolic link that loops back to a folder above it, or that shows
 * another folder's images a second time, under another class).
 */
async function visit(dir: string, visited: Map<string, string>): Promise<void> {
  const real = await realpath(dir);
  const seen = visited.get(real);
  if (seen !== undefined) {
    throw new Error(
      `${dir}: is the folder ${seen} again (through a symbolic link); its images would be read twice or, ` +
        'for a link loop, without end — remove the link, or copy the images',
    );
  }
  visited.set(real, dir);
}

/**
 * The image files under `dir` (subfolders included, hidden entries left out), sorted by path;
 * `visited` maps the real paths of the folders scanned so far to their names (see visit).
 */
async function listImages(dir: string, extensions: Set<string>, visited: Map<string, string>): Promise<string[]> {
  await visit(dir, visited);
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => byCodeUnit(a.name, b.name));
  for (const e of entries) {
    if (hidden(e.name)) continue;
    const path = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(path)));
    if (isDir) {
      out.push(...(await listImages(path, extensions, visited)));
      continue;
    }
    const dot = e.name.lastIndexOf('.');
    if (dot > 0 && extensions.has(e.name.slice(dot).toLowerCase())) out.push(path);
  }
  return out;
}

/**
 * Scans root/<class>/…/<image>: one folder per class, classes sorted by name (code units, as Python's
 * sorted) give the label indices; files are listed by class, then by path. Throws, naming the folder, when
 * the root is missing or not a directory, has no class folders, has no images at all, or when a class
 * folder has no images, or when a symbolic link leads to a folder already scanned (a loop, or another
 * class's images again: see visit).
 */
export async function scanImageFolder(root: string, options: ScanOptions = {}): Promise<ImageFolder> {
  const extList = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase());
  if (extList.length === 0) throw new Error('scanImageFolder: extensions is empty');
  const extensions = new Set(extList);
  const wanted = extList.join(', ');
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(root);
  } catch (err) {
    throw new Error(`${root}: cannot read the image folder (${readFailure(err) ?? (err as Error).message})`);
  }
  if (!info.isDirectory()) throw new Error(`${root}: is a file, not a folder of images`);
  const entries = await readdir(root, { withFileTypes: true });
  const classes: string[] = [];
  for (const e of entries) {
    if (hidden(e.name)) continue;
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(join(root, e.name))))) classes.push(e.name);
  }
  classes.sort(byCodeUnit);
  if (classes.length === 0) {
    throw new Error(`${root}: no class folders (expected ${root}/<class name>/<image> with images ${wanted})`);
  }
  // One class after the other, so that the folder a link repeats is named the same way every time.
  const visited = new Map<string, string>();
  await visit(root, visited);
  const perClass: string[][] = [];
  for (const c of classes) perClass.push(await listImages(join(root, c), extensions, visited));
  const total = perClass.reduce((n, l) => n + l.length, 0);
  if (total === 0) throw new Error(`${root}: no images (${wanted}) in any of its ${classes.length} class folders`);
  const empty = classes.filter((_, i) => perClass[i].length === 0);
  if (empty.length > 0) {
    const names = empty.map((c) => `'${c}'`).join(', ');
    throw new Error(
      `${root}: class folder${empty.length > 1 ? 's' : ''} ${names} ${empty.length > 1 ? 'have' : 'has'} no images (${wanted})`,
    );
  }
  const files: ImageFile[] = [];
  perClass.forEach((paths, label) => {
    for (const path of paths) files.push({ path, label });
  });
  return { root, classes, files };
}

/**
 * Holds out round(fraction × length) items, chosen by `seed`, as validation: the same permutation as
 * splitTrainValidation (dataset.ts), so both parts keep the original order and the same (length, fraction,
 * seed) always gives the same split.
 */
export function splitFileList<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`splitFileList: fraction must be in [0, 1), got ${fraction}`);
  const order = permutation(items.length, rng(hashInts(seed, 0x5711)));
  const n = Math.round(fraction * items.length);
  const pick = (ix: Uint32Array) => Array.from(ix.sort(), (i) => items[i]);
  return { validation: pick(order.subarray(0, n)), train: pick(order.subarray(n)) };
}
