/**
 * The box coder of Faster R-CNN / RetinaNet (torchvision 0.14 `BoxCoder`): a box relative to an anchor as
 * deltas (dx, dy, dw, dh). With anchor width/height/centre (w_a, h_a, x_a, y_a), box (w, h, x, y) and
 * weights (w_x, w_y, w_w, w_h):
 *   encode: dx = w_x (x - x_a) / w_a,  dy = w_y (y - y_a) / h_a,  dw = w_w log(w / w_a),  dh = w_h log(h / h_a)
 *   decode: x = dx/w_x · w_a + x_a,  w = exp(min(dw/w_w, clip)) · w_a  (the same for y, h), then corners x ∓ w/2.
 * Boxes, anchors and deltas are [N, 4] (row i of each belongs together), float32 step by step.
 */
import * as tf from '../../tf.js';
import { boxCount } from './boxes.js';
import { type BoxCoderConfig, RETINANET_BOX_CODER } from './config.js';

const f32 = Math.fround;

function pairedCount(values: Float32Array, valuesName: string, anchors: Float32Array): number {
  const n = boxCount(values, valuesName);
  const m = boxCount(anchors, 'anchors');
  if (n !== m) throw new Error(`${valuesName} [${n}, 4] and anchors [${m}, 4] must have the same number of rows`);
  return n;
}

function checkCoder(config: BoxCoderConfig): void {
  if (config.weights.length !== 4 || !config.weights.every((w) => Number.isFinite(w) && w !== 0)) {
    throw new Error(`box coder weights must be 4 finite non-zero numbers: got [${config.weights}]`);
  }
  if (Number.isNaN(config.clip)) throw new Error('box coder clip must be a number: got NaN');
}

/**
 * Box `b` (xyxy at offsets b…b+3 of `boxes`) as width, height and centre into `out` [w, h, cx, cy], each
 * rounded to float32 as torchvision computes it: w = x2 − x1, h = y2 − y1, cx = x1 + 0.5·w, cy = y1 + 0.5·h.
 */
function widthHeightCentre(boxes: Float32Array, b: number, out: Float32Array): void {
  out[0] = boxes[b + 2] - boxes[b];
  out[1] = boxes[b + 3] - boxes[b + 1];
  out[2] = boxes[b] + f32(0.5 * out[0]);
  out[3] = boxes[b + 1] + f32(0.5 * out[1]);
}

/** Regression targets [N, 4] of `boxes` [N, 4] (e.g. each anchor's matched ground truth) relative to `anchors` [N, 4]. */
export function encodeBoxes(
  boxes: Float32Array,
  anchors: Float32Array,
  config: BoxCoderConfig = RETINANET_BOX_CODER,
): Float32Array {
  const n = pairedCount(boxes, 'boxes', anchors);
  checkCoder(config);
  const [wx, wy, ww, wh] = config.weights.map(f32);
  const deltas = new Float32Array(n * 4);
  const anchor = new Float32Array(4);
  const box = new Float32Array(4);
  for (let b = 0; b < n * 4; b += 4) {
    widthHeightCentre(anchors, b, anchor);
    widthHeightCentre(boxes, b, box);
    const [aw, ah, ax, ay] = [anchor[0], anchor[1], anchor[2], anchor[3]];
    const [gw, gh, gx, gy] = [box[0], box[1], box[2], box[3]];
    deltas[b] = f32(wx * f32(gx - ax)) / aw;
    deltas[b + 1] = f32(wy * f32(gy - ay)) / ah;
    deltas[b + 2] = ww * f32(Math.log(f32(gw / aw)));
    deltas[b + 3] = wh * f32(Math.log(f32(gh / ah)));
  }
  return deltas;
}

/** Boxes [N, 4] xyxy from `deltas` [N, 4] applied to `anchors` [N, 4]. */
export function decodeBoxes(
  deltas: Float32Array,
  anchors: Float32Array,
  config: BoxCoderConfig = RETINANET_BOX_CODER,
): Float32Array {
  const n = pairedCount(deltas, 'deltas', anchors);
  checkCoder(config);
  const [wx, wy, ww, wh] = config.weights.map(f32);
  const clip = f32(config.clip);
  const boxes = new Float32Array(n * 4);
  const anchor = new Float32Array(4);
  for (let b = 0; b < n * 4; b += 4) {
    widthHeightCentre(anchors, b, anchor);
    const [aw, ah, ax, ay] = [anchor[0], anchor[1], anchor[2], anchor[3]];
    const x = f32(f32(f32(deltas[b] / wx) * aw) + ax);
    const y = f32(f32(f32(deltas[b + 1] / wy) * ah) + ay);
    const halfW = f32(0.5 * f32(f32(Math.exp(Math.min(f32(deltas[b + 2] / ww), clip))) * aw));
    const halfH = f32(0.5 * f32(f32(Math.exp(Math.min(f32(deltas[b + 3] / wh), clip))) * ah));
    boxes[b] = x - halfW;
    boxes[b + 1] = y - halfH;
    boxes[b + 2] = x + halfW;
    boxes[b + 3] = y + halfH;
  }
  return boxes;
}

/** `decodeBoxes` on tensors: deltas [N, 4], anchors [N, 4] → boxes [N, 4] xyxy (float32). */
export function decodeBoxesTensor(
  deltas: tf.Tensor2D,
  anchors: tf.Tensor2D,
  config: BoxCoderConfig = RETINANET_BOX_CODER,
): tf.Tensor2D {
  if (deltas.rank !== 2 || deltas.shape[1] !== 4) throw new Error(`deltas must be [N, 4]: got [${deltas.shape}]`);
  if (anchors.rank !== 2 || anchors.shape[1] !== 4) throw new Error(`anchors must be [N, 4]: got [${anchors.shape}]`);
  if (deltas.shape[0] !== anchors.shape[0]) {
    throw new Error(`deltas [${deltas.shape}] and anchors [${anchors.shape}] must have the same number of rows`);
  }
  checkCoder(config);
  const [wx, wy, ww, wh] = config.weights;
  return tf.tidy(() => {
    const [ax1, ay1, ax2, ay2] = tf.split(tf.cast(anchors, 'float32'), 4, 1);
    const [dx, dy, dw, dh] = tf.split(tf.cast(deltas, 'float32'), 4, 1);
    const aw = tf.sub(ax2, ax1);
    const ah = tf.sub(ay2, ay1);
    const x = tf.add(tf.mul(tf.div(dx, wx), aw), tf.add(ax1, tf.mul(0.5, aw)));
    const y = tf.add(tf.mul(tf.div(dy, wy), ah), tf.add(ay1, tf.mul(0.5, ah)));
    const halfW = tf.mul(0.5, tf.mul(tf.exp(tf.minimum(tf.div(dw, ww), config.clip)), aw));
    const halfH = tf.mul(0.5, tf.mul(tf.exp(tf.minimum(tf.div(dh, wh), config.clip)), ah));
    return tf.concat([tf.sub(x, halfW), tf.sub(y, halfH), tf.add(x, halfW), tf.add(y, halfH)], 1) as tf.Tensor2D;
  });
}
