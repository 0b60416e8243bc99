/**
 * Data specifications, as `--data` takes them:
 *   fashion-mnist           the full Fashion-MNIST from Debian's dataset-fashion-mnist when it is
 *                           installed, else the embedded subset
 *   fashion-mnist-subset    the embedded subset (data/fashion-mnist-subset: 10 000 + 2 000 images)
 *   fashion-mnist:DIR       mnist:DIR — the four original IDX files in DIR (gzipped or not)
 *   idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]
 *   cifar10:DIR             data_batch_1..5.bin and test_batch.bin
 *   cifar100:DIR            train.bin and test.bin (fine labels)
 *   folder:DIR              one folder per class, or DIR/train and DIR/test (or DIR/val) of them
 *                           (streamed; see folder_source.ts)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCifar } from './cifar.js';
import { withClasses } from './dataset.js';
import { imageFolderSource } from './folder_source.js';
import { loadIdxPair } from './idx.js';
import { type LoadedData, memorySource } from './memory_source.js';
import type { DataSource } from './source.js';

export type { LoadedData } from './memory_source.js';

/** Fashion-MNIST's ten class names, by label 0..9. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
/** The embedded subset, shipped with the package. */
export const EMBEDDED_FASHION_MNIST = fileURLToPath(new URL('../../data/fashion-mnist-subset', import.meta.url));

/**
 * A parsed `--data` value ({@link parseDataSpec}; the accepted forms are listed in data/spec.ts): IDX
 * files (train [images, labels], an optional test pair, optional class names), a CIFAR-10/100 binary
 * folder, or an image folder.
 */
export type DataSpec =
  | { kind: 'idx'; name: string; train: [string, string]; test?: [string, string]; classNames?: string[] }
  | { kind: 'cifar10' | 'cifar100'; name: string; dir: string }
  | { kind: 'folder'; name: string; dir: string };

/** An in-memory dataset with its test split (when the source has one). */
function idxFile(dir: string, stem: string): string {
  const gz = join(dir, `${stem}.gz`);
  return existsSync(gz) || !existsSync(join(dir, stem)) ? gz : join(dir, stem);
}

function idxDir(name: string, dir: string, classNames?: string[]): DataSpec {
  return {
    kind: 'idx',
    name,
    train: [idxFile(dir, 'train-images-idx3-ubyte'), idxFile(dir, 'train-labels-idx1-ubyte')],
    test: [idxFile(dir, 't10k-images-idx3-ubyte'), idxFile(dir, 't10k-labels-idx1-ubyte')],
    ...(classNames ? { classNames } : {}),
  };
}

function hasIdxDir(dir: string): boolean {
  return [
    'train-images-idx3-ubyte',
    'train-labels-idx1-ubyte',
    't10k-images-idx3-ubyte',
    't10k-labels-idx1-ubyte',
  ].every((f) => existsSync(join(dir, f)) || existsSync(join(dir, `${f}.gz`)));
}

/** Parses a --data value; errors list the accepted forms. */
export function parseDataSpec(spec: string): DataSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  const need = (what: string) => {
    if (!arg) throw new Error(`--data '${spec}': ${kind} needs ${what}, as in '${kind}:${what}'`);
    return arg;
  };
  switch (kind) {
    case 'fashion-mnist':
      if (arg) return idxDir(`fashion-mnist (${arg})`, arg, FASHION_MNIST_CLASSES);
      return hasIdxDir(DEBIAN_FASHION_MNIST)
        ? idxDir('fashion-mnist', DEBIAN_FASHION_MNIST, FASHION_MNIST_CLASSES)
        : idxDir('fashion-mnist-subset', EMBEDDED_FASHION_MNIST, FASHION_MNIST_CLASSES);
    case 'fashion-mnist-subset':
      return idxDir('fashion-mnist-subset', EMBEDDED_FASHION_MNIST, FASHION_MNIST_CLASSES);
    case 'mnist':
      return idxDir(`mnist (${need('DIR')})`, arg);
    case 'idx': {
      const files = need('TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS]').split(',');
      if (files.length !== 2 && files.length !== 4) {
        throw new Error(`--data '${spec}': idx takes 2 or 4 comma-separated files, got ${files.length}`);
      }
      return {
        kind: 'idx',
        name: `idx (${files[0]})`,
        train: [files[0], files[1]],
        ...(files.length === 4 ? { test: [files[2], files[3]] as [string, string] } : {}),
      };
    }
    case 'cifar10':
    case 'cifar100':
    case 'folder':
      return { kind, name: `${kind} (${need('DIR')})`, dir: arg };
    default:
      throw new Error(
        `--data '${spec}' is not a known data source; use fashion-mnist, fashion-mnist-subset, fashion-mnist:DIR, mnist:DIR, idx:FILES, cifar10:DIR, cifar100:DIR or folder:DIR`,
      );
  }
}

/** Options of the sources that decode image files (folders). */
export interface OpenOptions {
  /** Side of the images a folder gives (the crop size). Default 224; other sources refuse any other size. */
  imageSize?: number;
  /** A folder fails on the first missing or undecodable file instead of skipping it. */
  strict?: boolean;
}

/** The source `spec` names: an image folder streamed from disk, anything else loaded into memory. */
export async function openData(spec: DataSpec, options: OpenOptions = {}): Promise<DataSource> {
  if (spec.kind === 'folder') {
    const source = await imageFolderSource(spec.dir, {
      size: options.imageSize ?? 224,
      strict: options.strict,
      name: spec.name,
    });
    if (source.classes < 2) {
      throw new Error(
        `${spec.dir}: holds one class folder ('${source.classNames[0]}'); a classifier needs at least 2 classes`,
      );
    }
    return source;
  }
  const source = memorySource(await loadData(spec));
  if (options.imageSize !== undefined && options.imageSize !== source.size) {
    throw new Error(
      `--image-size ${options.imageSize}: ${spec.name} has ${source.size}×${source.size} images and is not resized (only folder:DIR is)`,
    );
  }
  return source;
}

/** Loads an in-memory source (IDX or CIFAR); image folders stream instead (openData) and are refused here. */
export async function loadData(spec: DataSpec): Promise<LoadedData> {
  if (spec.kind === 'folder') throw new Error(`${spec.name}: image folders are streamed, not loaded into memory`);
  if (spec.kind === 'idx') {
    const train0 = await loadIdxPair(...spec.train);
    const test0 = spec.test ? await loadIdxPair(...spec.test) : undefined;
    if (test0 && spec.test && (test0.height !== train0.height || test0.width !== train0.width)) {
      throw new Error(
        `${spec.test[0]}: test images are ${test0.height}×${test0.width}, the training images (${spec.train[0]}) ` +
          `${train0.height}×${train0.width}; give test files of the training size`,
      );
    }
    if (train0.count === 0) throw new Error(`${spec.train[0]}: holds no images; a classifier needs training images`);
    let max = 0;
    for (const set of [train0, test0]) if (set) for (const l of set.labels) max = Math.max(max, l);
    const classes = spec.classNames?.length ?? max + 1;
    if (classes < 2) {
      throw new Error(`${spec.train[1]}: every label is 0, one class; a classifier needs at least 2 classes`);
    }
    const classNames = spec.classNames ?? Array.from({ length: classes }, (_, i) => String(i));
    return {
      name: spec.name,
      train: withClasses(train0, classes, spec.train[1]),
      ...(test0 && spec.test ? { test: withClasses(test0, classes, spec.test[1]) } : {}),
      classNames,
    };
  }
  const variant = spec.kind;
  const files =
    variant === 'cifar10'
      ? {
          train: [1, 2, 3, 4, 5].map((i) => join(spec.dir, `data_batch_${i}.bin`)),
          test: [join(spec.dir, 'test_batch.bin')],
        }
      : { train: [join(spec.dir, 'train.bin')], test: [join(spec.dir, 'test.bin')] };
  const train = await loadCifar(files.train, { variant });
  const test = await loadCifar(files.test, { variant });
  return {
    name: spec.name,
    train,
    test,
    classNames: Array.from({ length: train.classes }, (_, i) => String(i)),
  };
}
