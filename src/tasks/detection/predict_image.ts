/**
 * One image file through a trained detector, as `detect predict` needs it: decoded (EXIF orientation
 * applied), normalised as in training, resized so its longer side is the detector's size (aspect kept)
 * and padded to size × size; the detections moved back to the original pixels (÷ the resize factor).
 */

import { decodeRgb, normalizeRgb, type RgbImage } from '../../data/detection/decode.js';
import { padImage, resizedSize, resizeImage } from '../../data/detection/transforms.js';
import * as tf from '../../tf.js';
import type { Detections } from './postprocess.js';
import type { RetinaNet } from './retinanet.js';
import type { DetectorMetadata } from './saved_detector.js';

export interface ImagePrediction {
  image: RgbImage;
  /** Boxes xyxy in the original image's pixels, by descending score. */
  detections: Detections;
}

export async function predictImage(net: RetinaNet, metadata: DetectorMetadata, file: string): Promise<ImagePrediction> {
  const image = await decodeRgb(file);
  const { size } = metadata;
  const normalised = normalizeRgb(image, { mean: metadata.mean, std: metadata.std });
  const to = resizedSize(image.width, image.height, size, size);
  const resized = resizeImage(normalised, to.width, to.height);
  const padded = padImage(resized, size, 0, size, size);
  const input = tf.tensor4d(padded.data, [1, size, size, 3]);
  const [d] = await net.detect(input, [[to.height, to.width]]).finally(() => input.dispose());
  const sx = to.width / image.width;
  const sy = to.height / image.height;
  const boxes = d.boxes.map((v, i) => (i % 2 === 0 ? v / sx : v / sy));
  return { image, detections: { ...d, boxes } };
}
