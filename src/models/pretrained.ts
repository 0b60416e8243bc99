/**
 * Weights for a freshly built model from files, as timm's `pretrained` hook loads a checkpoint into the
 * network `create_model` builds: strictly (every weight of the model present with its shape, nothing
 * else), errors naming the file and the weight. Two formats:
 *   - a TensorFlow.js model directory (or its model.json): weights matched by name ('layer/kernel');
 *     the optimiser's weights saved with `includeOptimizer` are ignored;
 *   - a `.safetensors` file with PyTorch names and layouts (io/torch_names.ts), as `sasa export`
 *     and python/sasa_torch write them.
 */
import { fileLoadHandler } from '../io/model_files.js';
import { importTorchSafetensors } from '../io/torch_names.js';
import * as tf from '../tf.js';

/** The weight-spec group tfjs-layers gives an optimiser's weights saved with the model. */
const OPTIMIZER_GROUP = 'optimizer';

/** Sets every weight of `model` from the tfjs model at `path` (a directory or its model.json), by name. */
async function loadTfjsWeights(model: tf.LayersModel, path: string): Promise<void> {
  const artifacts = await fileLoadHandler(path).load();
  const specs = artifacts.weightSpecs ?? [];
  const named = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  try {
    const modelNames = new Set(model.weights.map((w) => w.originalName));
    const extra = specs.filter((s) => s.group !== OPTIMIZER_GROUP && !modelNames.has(s.name)).map((s) => s.name);
    if (extra.length > 0) throw new Error(`${path}: weights not in the model: ${extra.slice(0, 10).join(', ')}`);
    const values = model.weights.map((w) => {
      const value = named[w.originalName];
      if (value === undefined) throw new Error(`${path}: weight '${w.originalName}' is missing`);
      if (!tf.util.arraysEqual(value.shape, w.shape as number[])) {
        throw new Error(`${path}: weight '${w.originalName}' has shape [${value.shape}], the model needs [${w.shape}]`);
      }
      return value;
    });
    model.setWeights(values);
  } finally {
    tf.dispose(Object.values(named));
  }
}

/**
 * Sets every weight of `model` from `path`: a `.safetensors` file with PyTorch names and layouts, or a
 * TensorFlow.js model directory (or its model.json). Strict: a weight missing, of another shape, or
 * one the model does not have is an error naming `path` and the weight.
 */
export async function loadWeights(model: tf.LayersModel, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '')
    throw new Error(`weights: expected a file or directory path, got ${String(path)}`);
  if (path.endsWith('.safetensors')) await importTorchSafetensors(model, path);
  else await loadTfjsWeights(model, path);
}
