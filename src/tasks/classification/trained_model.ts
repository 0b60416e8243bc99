/**
 * A trained classifier as `sasa train` leaves it in `<out>/model`: tfjs model files whose metadata
 * holds the configuration, the class names, the input normalisation and the data source.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImageForEval } from '../../data/image_folder/decode.js';
import { evalCropFraction } from '../../data/image_folder/transforms.js';
import { loadModelFiles, MODEL_JSON, WEIGHTS_BIN } from '../../io/model_files.js';
import * as tf from '../../tf.js';
import { modelInput, type RankedClass, topClasses } from './model_input.js';
import { type TrainedModel, trainedModelOf } from './model_metadata.js';

export type { TrainedModel } from './model_metadata.js';

/**
 * The classifier `sasa train` left in `dir` (`<out>/model`): its tfjs model, configuration, class names and
 * input normalisation; errors name the file (model.json, weights.bin) and what does not fit.
 */
export async function loadTrainedModel(dir: string): Promise<TrainedModel> {
  const { model, metadata } = await loadModelFiles(dir);
  return trainedModelOf({ dir, json: join(dir, MODEL_JSON), weights: join(dir, WEIGHTS_BIN) }, model, metadata);
}

/** The top classes of one image file, most likely first. */
export interface Prediction {
  path: string;
  top: RankedClass[];
}

/** An image file as the model sees it: `rgb` size² RGB values in [0, 1], `x` the model's input (model_input.ts). */
export interface ImageInput {
  rgb: Float32Array;
  x: Float32Array;
  size: number;
  channels: number;
}

/**
 * An image file decoded, resized (small inputs: the whole image; larger ones: the ImageNet evaluation crop
 * of 0.875 — evalCropFraction, as a folder's evaluation batches), grey when the model takes one channel,
 * normalised as in training. With `atLeastInputSize`, an image smaller than the model's input is refused
 * (an attention map over an upscaled image shows the resampling, not the image). Errors name the file.
 */
export async function imageInput(t: TrainedModel, path: string, atLeastInputSize = false): Promise<ImageInput> {
  const [size, , channels] = t.inputShape;
  if (atLeastInputSize) {
    const meta = await sharp(path)
      .metadata()
      .catch((err: Error) => {
        throw new Error(`${path}: cannot be decoded as an image (${err.message})`);
      });
    const [w, h] = [meta.autoOrient?.width ?? meta.width, meta.autoOrient?.height ?? meta.height];
    if (!(w >= size && h >= size)) {
      throw new Error(`${path}: the image is ${w}×${h}, too small for the model's ${size}×${size} input`);
    }
  }
  const rgb = await decodeImageForEval(path, size, [0, 0, 0], [1, 1, 1], evalCropFraction(size));
  return { rgb, x: modelInput(rgb, size, channels, t.normalization), size, channels };
}

/** The top-k classes of an image file (imageInput). */
export async function predictFile(t: TrainedModel, path: string, k = 5): Promise<Prediction> {
  const { x, size, channels } = await imageInput(t, path);
  const probabilities = tf.tidy(() =>
    tf.softmax(t.model.apply(tf.tensor4d(x, [1, size, size, channels]), { training: false }) as tf.Tensor2D).dataSync(),
  );
  return { path, top: topClasses(probabilities, t.classNames, k) };
}
