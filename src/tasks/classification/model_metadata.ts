/**
 * What sasa train writes into model.json's metadata, and the checks that it fits the network: shared by the
 * Node loader (trained_model.ts) and the web page (no Node modules here).
 */
import type { ModelConfig } from '../../models/config.js';
import type * as tf from '../../tf.js';
import type { Normalization } from './model_input.js';

/** A loaded classifier and its metadata. */
export interface TrainedModel {
  model: tf.LayersModel;
  config: ModelConfig;
  classNames: string[];
  normalization: Normalization;
  data: string;
  /** [size, size, channels] the model takes. */
  inputShape: [number, number, number];
}

/** Where the errors point: model.json's and weights.bin's names (paths or URLs). */
export interface ModelFileNames {
  dir: string;
  json: string;
  weights: string;
}

/**
 * Throws, naming the file, when model.json's metadata does not fit the network (as many class names as
 * outputs, a mean and a std per input channel) or when the weights hold a NaN or infinite value: such a
 * model would print `NaN %` or the wrong labels without a word.
 */
function checkConsistent(
  files: ModelFileNames,
  model: tf.LayersModel,
  classNames: unknown,
  normalization: Normalization,
  channels: number,
): void {
  const outputs = (model.outputs[0].shape as number[]).at(-1);
  if (!Array.isArray(classNames) || classNames.length !== outputs) {
    const count = Array.isArray(classNames) ? `${classNames.length} classes` : 'no list of classes';
    throw new Error(`${files.json}: its metadata's classNames names ${count}, the network has ${outputs} outputs`);
  }
  for (const key of ['mean', 'std'] as const) {
    const v = normalization[key];
    if (
      !Array.isArray(v) ||
      v.length !== channels ||
      !v.every((x) => Number.isFinite(x) && (key === 'mean' || x > 0))
    ) {
      throw new Error(
        `${files.json}: its metadata's normalization.${key} must be ${channels} finite${key === 'std' ? ' positive' : ''} numbers (one per input channel), found ${JSON.stringify(v)}`,
      );
    }
  }
  for (const weight of model.weights) {
    const values = weight.read().dataSync();
    if (!values.every(Number.isFinite)) {
      throw new Error(`${files.weights}: weight '${weight.originalName}' holds NaN or infinite values`);
    }
  }
}

/** The trained model of a loaded network and its metadata, checked (errors name the files). */
export function trainedModelOf(files: ModelFileNames, model: tf.LayersModel, metadata: unknown): TrainedModel {
  const m = (metadata ?? {}) as Partial<Omit<TrainedModel, 'model' | 'inputShape'>>;
  if (!m.config || !m.classNames || !m.normalization) {
    throw new Error(
      `${files.dir}: not a model written by sasa train (its metadata has no config, classNames or normalization)`,
    );
  }
  const [, h, w, c] = model.inputs[0].shape as number[];
  checkConsistent(files, model, m.classNames, m.normalization, c);
  return {
    model,
    config: m.config,
    classNames: m.classNames,
    normalization: m.normalization,
    data: m.data ?? 'unknown',
    inputShape: [h, w, c],
  };
}
