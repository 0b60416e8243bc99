/**
 * A tfjs model over HTTP, as the web page loads one (no Node modules here): `<base>/model.json` and the
 * weight files its manifest names, fetched with errors that name the file (missing, unreadable, not JSON,
 * the wrong size), and a network tfjs cannot build (an unknown layer class) named against model.json.
 * Custom layers must be registered (importing their modules does).
 */
import * as tf from '../tf.js';

/** The URL of `name` in the folder `base` ('model/' or 'http://host/model/'). */
function urlOf(base: string, name: string): string {
  return `${base.replace(/\/?$/, '/')}${name}`;
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: cannot be fetched (${(err as Error).message})`);
  }
  if (!response.ok) {
    const why = response.status === 404 ? 'missing' : `HTTP ${response.status}`;
    throw new Error(`${url}: ${why}`);
  }
  return response.arrayBuffer();
}

async function fetchModelJson(url: string): Promise<tf.io.ModelJSON> {
  const text = new TextDecoder().decode(await fetchBytes(url));
  let json: Partial<tf.io.ModelJSON> | null;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${url}: invalid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || json.modelTopology == null) {
    throw new Error(`${url}: not a tfjs model (no modelTopology)`);
  }
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || !manifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))) {
    throw new Error(`${url}: weightsManifest must be a list of {paths: [...], weights: [...]} groups`);
  }
  return json as tf.io.ModelJSON;
}

/** float32 / int32 weights only (as model_files.ts writes them). */
function expectedBytes(specs: readonly tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
}

/** The model in the folder at `base` (a URL) and its user-defined metadata; the file names for errors. */
export async function fetchModelFiles(base: string): Promise<{
  model: tf.LayersModel;
  metadata: unknown;
  files: { json: string; weights: string };
}> {
  const jsonUrl = urlOf(base, 'model.json');
  const json = await fetchModelJson(jsonUrl);
  const paths = json.weightsManifest.flatMap((g) => g.paths).map((p) => urlOf(base, String(p)));
  const weights = paths.join(', ');
  const buffers = await Promise.all(paths.map(fetchBytes));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const size = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (size !== expectedBytes(specs)) {
    throw new Error(`${weights}: expected ${expectedBytes(specs)} bytes (from ${jsonUrl}), found ${size} bytes`);
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async () => [
    specs,
    tf.io.concatenateArrayBuffers(buffers),
  ]);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts)).catch((err: Error) => {
    throw new Error(`${jsonUrl}: cannot build the model from it (${err.message.split('\n')[0]})`);
  });
  return { model, metadata: model.getUserDefinedMetadata(), files: { json: jsonUrl, weights } };
}
