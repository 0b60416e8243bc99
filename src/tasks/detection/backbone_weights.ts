/**
 * A trained classification model's weights put into a detector's backbone, layer by layer, by layer
 * name: the detector's backbone is built by the same builder (models/builder.ts), so its layers keep the
 * classifier's names; a layer is copied when the detector has a layer of that name whose weights have the
 * same shapes. The classifier's head (and anything the detector lacks) is left out.
 */

import { loadModelFiles } from '../../io/model_files.js';
import type * as tf from '../../tf.js';

/** Copies the matching layers of the classifier in `dir` into `detector`; returns the names copied. */
export async function loadBackboneWeights(detector: tf.LayersModel, dir: string): Promise<string[]> {
  let classifier: tf.LayersModel;
  try {
    classifier = (await loadModelFiles(dir)).model;
  } catch (err) {
    throw new Error(`--backbone-weights ${dir}: cannot load a model there (${(err as Error).message})`);
  }
  const copied: string[] = [];
  try {
    const targets = new Map(detector.layers.map((l) => [l.name, l]));
    for (const layer of classifier.layers) {
      const target = targets.get(layer.name);
      const values = layer.getWeights();
      if (!target || values.length === 0) continue;
      const shapes = target.getWeights().map((w) => w.shape.join());
      if (shapes.length !== values.length || values.some((v, i) => v.shape.join() !== shapes[i])) continue;
      target.setWeights(values);
      copied.push(layer.name);
    }
  } finally {
    classifier.dispose();
  }
  if (copied.length === 0) {
    throw new Error(
      `--backbone-weights ${dir}: none of its layers matches a backbone layer of the detector by name and shapes; give the model/ folder of a classifier of the detector's backbone`,
    );
  }
  return copied;
}
