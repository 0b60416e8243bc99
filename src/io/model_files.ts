/**
 * A tf.LayersModel on the file system in the TensorFlow.js format: a directory holding `model.json`
 * (topology, one weights-manifest group with paths ['weights.bin'], format 'layers-model',
 * generatedBy, convertedBy null, optional userDefinedMetadata) and `weights.bin`.
 * Saving writes both files into a temporary sibling directory and renames it into place; an existing
 * model directory is renamed away first and deleted last, so `dir` never holds a half-written model.
 * Weights must be float32 or int32 (no quantisation).
 */
import { lstat, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import * as tf from '../tf.js';
import { readFailure, siblingName, writeSynced } from './files.js';
import { killPoint } from './kill_point.js';
import '../layers/local_self_attention.js';

/** The topology file of a model directory. */
export const MODEL_JSON = 'model.json';
/** The weights file of a model directory. */
export const WEIGHTS_BIN = 'weights.bin';

/** JSON-serialisable metadata stored as model.json's `userDefinedMetadata`. */
export type ModelMetadata = Record<string, unknown>;

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4 };

function weightBytes(specs: readonly tf.io.WeightsManifestEntry[], where: string): number {
  let total = 0;
  for (const spec of specs) {
    const name = typeof spec?.name === 'string' ? spec.name : JSON.stringify(spec?.name);
    const width = BYTES_PER_ELEMENT[spec?.dtype as string];
    if (width === undefined) {
      throw new Error(`${where}: weight '${name}' has unsupported dtype '${spec?.dtype}' (float32 or int32 only)`);
    }
    if (spec.quantization != null) throw new Error(`${where}: weight '${name}' is quantised (not supported)`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${where}: weight '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    total += width * shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/** Renames `staged` onto `dir`, moving an existing model directory away first and deleting it last. */
async function replaceDir(staged: string, dir: string): Promise<void> {
  const existing = await lstat(dir).catch(() => null);
  if (existing === null) {
    await rename(staged, dir);
    return;
  }
  if (!existing.isDirectory()) throw new Error(`${dir}: exists and is not a directory`);
  const entries = await readdir(dir);
  if (entries.length > 0 && !entries.includes(MODEL_JSON)) {
    throw new Error(`${dir}: exists and holds no ${MODEL_JSON}; refusing to replace a directory that is not a model`);
  }
  const old = siblingName(dir, 'old');
  await rename(dir, old);
  killPoint(basename(dir));
  try {
    await rename(staged, dir);
  } catch (err) {
    await rename(old, dir);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  const topology = artifacts.modelTopology;
  if (topology == null || topology instanceof ArrayBuffer) {
    throw new Error(`${dir}: only layers models with a JSON topology can be saved`);
  }
  const specs = artifacts.weightSpecs ?? [];
  const data = new Uint8Array(tf.io.concatenateArrayBuffers(artifacts.weightData ?? []));
  const expected = weightBytes(specs, dir);
  if (data.byteLength !== expected) {
    throw new Error(`${dir}: weight data is ${data.byteLength} bytes, the weight specs need ${expected} bytes`);
  }
  const json: tf.io.ModelJSON = {
    modelTopology: topology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: specs }],
    format: 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
  };
  if (artifacts.trainingConfig != null) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata != null) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  const target = resolve(dir);
  await mkdir(dirname(target), { recursive: true });
  const staged = siblingName(target, 'tmp');
  try {
    await mkdir(staged);
    await writeSynced(join(staged, WEIGHTS_BIN), [data]);
    await writeSynced(join(staged, MODEL_JSON), [new TextEncoder().encode(JSON.stringify(json))]);
    await replaceDir(staged, target);
  } finally {
    await rm(staged, { recursive: true, force: true });
  }
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

/** An IOHandler whose save() writes `dir`/model.json and `dir`/weights.bin atomically. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return { save: (artifacts) => saveArtifacts(dir, artifacts) };
}

/** `path`'s model directory and model.json: `path` names a `.json` file, or the directory holding model.json. */
function modelPaths(path: string): { dir: string; json: string } {
  return path.endsWith('.json') ? { dir: dirname(path), json: path } : { dir: path, json: join(path, MODEL_JSON) };
}

async function readModelJson(dir: string, path: string): Promise<tf.io.ModelJSON> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      err.code === 'ENOENT' ? `${dir}: no such model directory` : `${dir}: ${readFailure(err) ?? err.message}`,
    );
  });
  if (!info.isDirectory()) throw new Error(`${dir}: not a directory`);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      err.code === 'ENOENT' ? `${path}: missing` : `${path}: cannot be read (${readFailure(err) ?? err.message})`,
    );
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON (${(err as Error).message})`);
  }
  const obj = json as Partial<tf.io.ModelJSON> | null;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error(`${path}: not a JSON object`);
  if (obj.modelTopology == null || typeof obj.modelTopology !== 'object') {
    throw new Error(`${path}: no modelTopology object`);
  }
  const manifest = obj.weightsManifest;
  if (!Array.isArray(manifest) || !manifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new Error(`${path}: weightsManifest must be a list of {paths: [...], weights: [...]} groups`);
  }
  return obj as tf.io.ModelJSON;
}

async function readWeights(dir: string, where: string, manifest: tf.io.WeightsManifestConfig) {
  const specs = manifest.flatMap((group) => group.weights);
  const expected = weightBytes(specs, where);
  const root = resolve(dir) + sep;
  const paths = manifest
    .flatMap((group) => group.paths)
    .map((p) => {
      const full = resolve(dir, String(p));
      if (!full.startsWith(root)) throw new Error(`${where}: weights path '${p}' lies outside ${dir}`);
      return full;
    });
  const buffers = await Promise.all(
    paths.map((p) =>
      readFile(p).catch((err: Error) => {
        throw new Error(`${p}: cannot be read (${readFailure(err) ?? err.message})`);
      }),
    ),
  );
  const actual = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (actual !== expected) {
    throw new Error(`${paths.join(', ')}: expected ${expected} bytes (from ${where}), found ${actual} bytes`);
  }
  const data = new Uint8Array(actual);
  let at = 0;
  for (const b of buffers) {
    data.set(b, at);
    at += b.byteLength;
  }
  return [specs, data.buffer] as [tf.io.WeightsManifestEntry[], ArrayBuffer];
}

/**
 * An IOHandler whose load() reads a model.json and the weight files its manifest names (paths relative
 * to the model.json's directory). `path`: a `.json` file, or a directory holding model.json.
 */
export function fileLoadHandler(path: string): tf.io.IOHandler & Required<Pick<tf.io.IOHandler, 'load'>> {
  const { dir, json } = modelPaths(path);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = await readModelJson(dir, json);
      return tf.io.getModelArtifactsForJSON(modelJson, (manifest) => readWeights(dir, json, manifest));
    },
  };
}

/** Saves `model` to `dir` (replacing a model already there), with optional user-defined metadata. */
export async function saveModelFiles(
  model: tf.LayersModel,
  dir: string,
  metadata?: ModelMetadata,
): Promise<tf.io.SaveResult> {
  if (metadata === undefined) return model.save(fileSaveHandler(dir));
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new Error(`${dir}: metadata must be a plain object`);
  }
  try {
    JSON.stringify(metadata);
  } catch (err) {
    throw new Error(`${dir}: metadata is not JSON-serialisable (${(err as Error).message})`);
  }
  const userDefinedMetadata = metadata as Record<string, object>;
  return model.save({ save: (artifacts) => saveArtifacts(dir, { ...artifacts, userDefinedMetadata }) });
}

/**
 * A failure tfjs reports while building the network from model.json or setting its weights (a weight
 * shape changed by hand, an unknown layer) as an Error naming model.json; our own errors pass unchanged.
 */
function buildError(dir: string, err: Error): Error {
  if (err.message.startsWith(dir) || err.message.includes(resolve(dir))) return err;
  const path = join(dir, MODEL_JSON);
  const shapes = /^Shape mismatch: (\[[\d,]*\]) vs\. (\[[\d,]*\])/.exec(err.message);
  if (shapes) {
    return new Error(
      `${path}: a weight's shape in weightsManifest is ${shapes[2]}, the network its modelTopology builds needs ${shapes[1]}`,
    );
  }
  return new Error(`${path}: cannot build the model from it (${err.message.split('\n')[0]})`);
}

/** Loads the model in `dir` (custom layers must be registered) and its user-defined metadata. */
export async function loadModelFiles(dir: string): Promise<{ model: tf.LayersModel; metadata?: ModelMetadata }> {
  const model = await tf.loadLayersModel(fileLoadHandler(dir)).catch((err: Error) => {
    throw buildError(dir, err);
  });
  const metadata = model.getUserDefinedMetadata() as ModelMetadata | undefined;
  return metadata === undefined ? { model } : { model, metadata };
}
