/**
 * The RetinaNet task (torchvision 0.14 `RetinaNet`'s pattern): a detector network (models/detection) and
 * its box-level parts, each injected with RetinaNet's default (config.ts):
 *   forward(images [B, H, W, C])            → clsLogits [B, A, K], boxRegression [B, A, 4]
 *   computeLoss(outputs, targets, [H, W])   → focal classification + L1 box regression (retinanet_loss.ts)
 *   detect(images, imageSizes)              → per image boxes xyxy, scores, labels (postprocess.ts)
 * Anchors are generated for the padded batch size [H, W] (as torchvision does) and cached per size.
 */

import { type DetectorOutputs, detectorOutputs } from '../../models/detection/builder.js';
import { type DetectorConfig, RETINANET_ANCHOR_SIZES } from '../../models/detection/config.js';
import type * as tf from '../../tf.js';
import { type AnchorSet, generateAnchors } from './anchors.js';
import type { Size2 } from './boxes.js';
import {
  type AnchorConfig,
  anchorsOfSizes,
  type BoxCoderConfig,
  type DetectionConfig,
  type FocalLossConfig,
  type MatcherConfig,
  type NmsConfig,
  RETINANET_ANCHORS,
  RETINANET_BOX_CODER,
  RETINANET_DETECTIONS,
  RETINANET_FOCAL_LOSS,
  RETINANET_MATCHER,
  RETINANET_NMS,
} from './config.js';
import type { DetectionTarget } from './head_outputs.js';
import { type Detections, postprocessDetections } from './postprocess.js';
import { type RetinaNetLosses, retinaNetLoss } from './retinanet_loss.js';

/** The box-level parts of a RetinaNet; each defaults to RetinaNet's (config.ts). */
export interface RetinaNetParts {
  anchors?: AnchorConfig;
  matcher?: MatcherConfig;
  coder?: BoxCoderConfig;
  focalLoss?: FocalLossConfig;
  detections?: DetectionConfig;
  nms?: NmsConfig;
}

/**
 * A RetinaNet: the detector network `model` (images [B, H, W, C] → class logits [B, A, K] and box
 * regression [B, A, 4]) with its anchors, matcher, box coder, focal loss, post-processing and NMS (`parts`,
 * each RetinaNet's default when left out): forward, computeLoss and detect, as torchvision's class.
 */
export class RetinaNet {
  readonly anchors: AnchorConfig;
  readonly matcher: MatcherConfig;
  readonly coder: BoxCoderConfig;
  readonly focalLoss: FocalLossConfig;
  readonly detections: DetectionConfig;
  readonly nms: NmsConfig;
  private readonly anchorCache = new Map<string, AnchorSet>();

  constructor(
    readonly model: tf.LayersModel,
    parts: RetinaNetParts = {},
  ) {
    this.anchors = parts.anchors ?? RETINANET_ANCHORS;
    this.matcher = parts.matcher ?? RETINANET_MATCHER;
    this.coder = parts.coder ?? RETINANET_BOX_CODER;
    this.focalLoss = parts.focalLoss ?? RETINANET_FOCAL_LOSS;
    this.detections = parts.detections ?? RETINANET_DETECTIONS;
    this.nms = parts.nms ?? RETINANET_NMS;
  }

  /** The head outputs for images [B, H, W, C] (H, W multiples of 128); `training`: batch statistics. */
  forward(images: tf.Tensor4D, training = false): DetectorOutputs {
    return detectorOutputs(this.model, images, training);
  }

  /** The anchors of a padded batch of size [height, width], generated once per size. */
  anchorsFor(batchSize: Size2): AnchorSet {
    const key = `${batchSize[0]}x${batchSize[1]}`;
    let set = this.anchorCache.get(key);
    if (!set) {
      set = generateAnchors(batchSize, this.anchors);
      this.anchorCache.set(key, set);
    }
    return set;
  }

  /** The two losses of `outputs` against one target per image (boxes in the batch's pixels) for a batch of `batchSize`. */
  computeLoss(outputs: DetectorOutputs, targets: readonly DetectionTarget[], batchSize: Size2): RetinaNetLosses {
    return retinaNetLoss(outputs, targets, this.anchorsFor(batchSize).boxes, {
      matcher: this.matcher,
      coder: this.coder,
      alpha: this.focalLoss.alpha,
      gamma: this.focalLoss.gamma,
    });
  }

  /** Detections per image of images [B, H, W, C]; `imageSizes` [height, width] before padding (boxes clipped to it). */
  async detect(images: tf.Tensor4D, imageSizes: readonly Size2[]): Promise<Detections[]> {
    const outputs = this.forward(images, false);
    try {
      const [, h, w] = images.shape;
      return await postprocessDetections(outputs, this.anchorsFor([h, w]), imageSizes, {
        detections: this.detections,
        nms: this.nms,
        coder: this.coder,
      });
    } finally {
      outputs.clsLogits.dispose();
      outputs.boxRegression.dispose();
    }
  }
}

/**
 * The RetinaNet of a network built from `detector`: anchors of the detector's `anchorSizes` (the network
 * does not record them, so training, evaluation and prediction all take them from its configuration).
 */
export function retinaNetOf(model: tf.LayersModel, detector: DetectorConfig, parts: RetinaNetParts = {}): RetinaNet {
  return new RetinaNet(model, { anchors: anchorsOfSizes(detector.anchorSizes ?? RETINANET_ANCHOR_SIZES), ...parts });
}
