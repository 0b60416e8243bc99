/** test/golden/detection/retinanet_loss.json.gz (tools/gen_retinanet_loss_golden.py) as typed arrays and tensors. */

import type { Size2 } from '../../../src/tasks/detection/boxes.js';
import type { DetectionTarget, RetinaNetOutputs } from '../../../src/tasks/detection/head_outputs.js';
import * as tf from '../../../src/tf.js';
import { floats, type GoldenFloat, readGolden } from './golden.js';

interface RawGolden {
  defaults: { scoreThreshold: number; topkCandidates: number; nmsThreshold: number; detectionsPerImage: number };
  imageSize: [number, number];
  imageSizes: [number, number][];
  numClasses: number;
  perLevel: number[];
  anchors: GoldenFloat[];
  clsLogits: GoldenFloat[];
  boxRegression: GoldenFloat[];
  targets: { boxes: GoldenFloat[]; labels: number[] }[];
  matches: number[][];
  loss: { classification: number; boxRegression: number };
  detections: { boxes: GoldenFloat[]; scores: GoldenFloat[]; labels: number[] }[];
}

export interface RetinaNetGolden {
  defaults: RawGolden['defaults'];
  imageSize: Size2;
  imageSizes: Size2[];
  numClasses: number;
  perLevel: number[];
  anchors: Float32Array;
  clsLogits: Float32Array;
  boxRegression: Float32Array;
  targets: DetectionTarget[];
  matches: Int32Array[];
  loss: RawGolden['loss'];
  detections: { boxes: Float32Array; scores: Float32Array; labels: Int32Array }[];
}

export function readRetinaNetGolden(): RetinaNetGolden {
  const raw = readGolden<RawGolden>('retinanet_loss.json.gz');
  return {
    ...raw,
    anchors: floats(raw.anchors),
    clsLogits: floats(raw.clsLogits),
    boxRegression: floats(raw.boxRegression),
    targets: raw.targets.map((t) => ({ boxes: floats(t.boxes), labels: Int32Array.from(t.labels) })),
    matches: raw.matches.map((m) => Int32Array.from(m)),
    detections: raw.detections.map((d) => ({
      boxes: floats(d.boxes),
      scores: floats(d.scores),
      labels: Int32Array.from(d.labels),
    })),
  };
}

/** The golden head outputs as tensors [B, A, K] and [B, A, 4] (the caller disposes them). */
export function goldenOutputs(golden: RetinaNetGolden): RetinaNetOutputs {
  const b = golden.imageSizes.length;
  const a = golden.anchors.length / 4;
  return {
    clsLogits: tf.tensor3d(golden.clsLogits, [b, a, golden.numClasses]),
    boxRegression: tf.tensor3d(golden.boxRegression, [b, a, 4]),
  };
}
