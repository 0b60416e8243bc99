/**
 * A trained detector as a folder: the network as tfjs model files (io/model_files.ts) and, in their
 * metadata, what eval and predict need to use it — the detector's configuration, the class map (class i ↔
 * category ids[i], named names[i]), the input side and the normalisation of the pixels.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CategoryMap } from '../../data/detection/annotations.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../data/image_folder/transforms.js';
import { loadModelFiles, MODEL_JSON, saveModelFiles } from '../../io/model_files.js';
import type { DetectorConfig } from '../../models/detection/config.js';
import type * as tf from '../../tf.js';

export const DETECTOR_TASK = 'detection';

export interface DetectorMetadata {
  task: typeof DETECTOR_TASK;
  detector: DetectorConfig;
  categories: CategoryMap;
  /** Images are resized to this longer side and padded to size × size. */
  size: number;
  /** x = (byte / 255 − mean) / std per channel (RGB). */
  mean: number[];
  std: number[];
}

export interface SavedDetector {
  model: tf.LayersModel;
  metadata: DetectorMetadata;
}

/** The metadata of a detector trained on `categories` at `size` with ImageNet's normalisation. */
export function detectorMetadata(detector: DetectorConfig, categories: CategoryMap, size: number): DetectorMetadata {
  return { task: DETECTOR_TASK, detector, categories, size, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
}

export async function saveDetector(dir: string, model: tf.LayersModel, metadata: DetectorMetadata): Promise<void> {
  await saveModelFiles(model, dir, metadata as unknown as Record<string, unknown>);
}

/** Loads a detector folder; errors name the folder and what is missing. */
export async function loadDetector(dir: string): Promise<SavedDetector> {
  if (!existsSync(join(dir, MODEL_JSON))) {
    throw new Error(`--model-dir ${dir}: no ${MODEL_JSON}; give the model/ folder a 'sasa detect train' run wrote`);
  }
  const { model, metadata } = await loadModelFiles(dir);
  const m = metadata as Partial<DetectorMetadata> | undefined;
  if (m?.task !== DETECTOR_TASK || !m.detector || !m.categories || !m.size || !m.mean || !m.std) {
    model.dispose();
    throw new Error(`--model-dir ${dir}: not a detector (its metadata lacks the detection task, classes or size)`);
  }
  const classes = (model.outputs[0].shape as number[])[2];
  if (classes !== m.categories.ids.length) {
    model.dispose();
    throw new Error(`--model-dir ${dir}: the network has ${classes} classes, its metadata ${m.categories.ids.length}`);
  }
  return { model, metadata: m as DetectorMetadata };
}
