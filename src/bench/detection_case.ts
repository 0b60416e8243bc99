/**
 * The detection benchmark case, the same one bench/retinanet_peer.py runs on torchvision 0.14:
 * RetinaNet (retinanet_{backbone}[_attnfpn]) on seeded normal images [B, S, S, 3] with fixed boxes.
 * - train: one training step of tasks/detection/step.ts (forward in training mode, focal + L1 box
 *   loss, gradients of every weight, SGD momentum 0.9, weight decay 1e-4; the peer: the same on
 *   `retinanet_resnet50_fpn` with torch.optim.SGD);
 * - inference: forward, then post-processing of every image (score threshold, top-k per level,
 *   class-wise NMS, detections cap: torchvision's `RetinaNet.postprocess_detections`).
 */

import { createDetector } from '../models/detection/registry.js';
import type { DetectionTarget } from '../tasks/detection/head_outputs.js';
import { detectImage } from '../tasks/detection/postprocess.js';
import { RetinaNet } from '../tasks/detection/retinanet.js';
import { makeDetectionStep } from '../tasks/detection/step.js';
import * as tf from '../tf.js';
import { type PreparedStep, type Timing, type TimingOptions, timeImageSteps } from './timing.js';

export type FpnKind = 'conv' | 'attention';

export interface DetectionCase {
  /** A registered paper backbone (models/registry.ts), e.g. resnet50. */
  backbone: string;
  fpn: FpnKind;
  batch: number;
  /** Image height = width (a multiple of 128). */
  size: number;
  classes: number;
  /** One training step instead of inference with post-processing. */
  train: boolean;
}

/** The training step's optimiser (ours: tasks/detection/step.ts; the peer's torch.optim.SGD). */
export const DETECTION_BENCH_OPTIMIZER = {
  name: 'sgd_momentum',
  learningRate: 0.01,
  momentum: 0.9,
  weightDecay: 1e-4,
} as const;

/**
 * The fixed ground truth of image i of a batch of size S: three boxes xyxy, fractions of S
 * (bench/retinanet_peer.py's `targets` uses the same fractions and labels).
 */
export const BENCH_BOXES: readonly (readonly [number, number, number, number])[] = [
  [0.1, 0.1, 0.4, 0.5],
  [0.5, 0.2, 0.9, 0.6],
  [0.3, 0.55, 0.7, 0.95],
];

export function benchTargets(batch: number, size: number, classes: number): DetectionTarget[] {
  return Array.from({ length: batch }, (_, i) => ({
    boxes: Float32Array.from(BENCH_BOXES.flat(), (f) => f * size),
    labels: Int32Array.from(BENCH_BOXES, (_, j) => (i * 7 + j * 13) % classes),
  }));
}

/** The registered detector name of a backbone and FPN kind. */
export function detectorName(backbone: string, fpn: FpnKind): string {
  return `retinanet_${backbone}${fpn === 'attention' ? '_attnfpn' : ''}`;
}

/** One step of the case (freeing what it allocates) and the disposal of the model and inputs. */
export function prepareDetectionBench(c: DetectionCase): PreparedStep {
  const model = createDetector(detectorName(c.backbone, c.fpn), { classes: c.classes, inputSize: c.size });
  const net = new RetinaNet(model);
  const images = tf.randomNormal([c.batch, c.size, c.size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const targets = benchTargets(c.batch, c.size, c.classes);
  const trainStep = makeDetectionStep(net, DETECTION_BENCH_OPTIMIZER);
  const anchors = net.anchorsFor([c.size, c.size]);
  const infer = () => {
    const outputs = net.forward(images, false);
    const logits = outputs.clsLogits.dataSync() as Float32Array;
    const deltas = outputs.boxRegression.dataSync() as Float32Array;
    tf.dispose([outputs.clsLogits, outputs.boxRegression]);
    const perImage = logits.length / c.batch;
    for (let i = 0; i < c.batch; i++) {
      const image = {
        logits: logits.subarray(i * perImage, (i + 1) * perImage),
        deltas: deltas.subarray((i * deltas.length) / c.batch, ((i + 1) * deltas.length) / c.batch),
        numClasses: c.classes,
      };
      detectImage(image, anchors, [c.size, c.size], net);
    }
  };
  const train = () => {
    trainStep.run(images, targets, [c.size, c.size], DETECTION_BENCH_OPTIMIZER.learningRate);
  };
  return {
    step: c.train ? train : infer,
    dispose: () => {
      images.dispose();
      trainStep.optimizer.dispose();
      model.dispose();
    },
  };
}

/** Times one training step, or one inference with post-processing, of the case's RetinaNet. */
export function benchDetection(c: DetectionCase, options: TimingOptions): Timing & { images_per_s: number } {
  return timeImageSteps(prepareDetectionBench(c), c.batch, options);
}
