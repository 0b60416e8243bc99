/**
 * Anchors as torchvision 0.14's `AnchorGenerator` makes them for RetinaNet. Per level, the cell anchors
 * are zero-centred boxes for every (ratio r, size s), ratio-major:
 *   h_r = sqrt(r), w_r = 1 / h_r,  (x1, y1, x2, y2) = round((-w_r s, -h_r s, w_r s, h_r s) / 2)
 * (float32, rounding half to even); they are shifted to every feature location (y, x) by
 * (x·stride_x, y·stride_y), stride = image size // feature size, location-major (rows, then columns,
 * then the cell anchors). Levels are concatenated in order.
 */
import type { Size2 } from './boxes.js';
import { type AnchorConfig, RETINANET_ANCHORS } from './config.js';

const f32 = Math.fround;

/** All anchors of an image, xyxy [N, 4], and how many of them each level holds (in order). */
export interface AnchorSet {
  boxes: Float32Array;
  perLevel: number[];
}

/** Round half to even (torch.round), for values that are exact in float32. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkPositiveInt(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer: got ${value}`);
}

function checkImageSize(imageSize: Size2): void {
  imageSize.forEach((v, i) => {
    checkPositiveInt(v, `image size [height, width][${i}]`);
  });
}

/** Zero-centred cell anchors [R·S, 4] for ratios R and sizes S, ratio-major. */
export function cellAnchors(sizes: readonly number[], aspectRatios: readonly number[]): Float32Array {
  const cells = new Float32Array(sizes.length * aspectRatios.length * 4);
  aspectRatios.forEach((ratio, r) => {
    if (!(ratio > 0 && Number.isFinite(ratio))) throw new Error(`aspect ratio ${r} must be positive: got ${ratio}`);
    const hRatio = f32(Math.sqrt(f32(ratio)));
    const wRatio = f32(1 / hRatio);
    sizes.forEach((size, s) => {
      if (!(size > 0 && Number.isFinite(size))) throw new Error(`anchor size ${s} must be positive: got ${size}`);
      const halfW = f32(f32(wRatio * f32(size)) / 2);
      const halfH = f32(f32(hRatio * f32(size)) / 2);
      cells.set([-halfW, -halfH, halfW, halfH].map(roundHalfEven), (r * sizes.length + s) * 4);
    });
  });
  return cells;
}

/** Cell anchors [A, 4] shifted to every location of a [h, w] feature map with `stride` [sy, sx] → [h·w·A, 4]. */
export function gridAnchors(cells: Float32Array, featureSize: Size2, stride: Size2): Float32Array {
  const [h, w] = featureSize;
  const [sy, sx] = stride;
  const a = cells.length / 4;
  const boxes = new Float32Array(h * w * a * 4);
  let o = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < a * 4; c += 4) {
        boxes[o++] = x * sx + cells[c];
        boxes[o++] = y * sy + cells[c + 1];
        boxes[o++] = x * sx + cells[c + 2];
        boxes[o++] = y * sy + cells[c + 3];
      }
    }
  }
  return boxes;
}

/** Feature-map sizes per level, ceil(image size / stride): what a chain of stride-2 3×3 (padding 1) convolutions gives. */
export function featureSizes(imageSize: Size2, config: AnchorConfig = RETINANET_ANCHORS): Size2[] {
  checkImageSize(imageSize);
  return config.strides.map((stride, l) => {
    checkPositiveInt(stride, `anchor stride ${l}`);
    return [Math.ceil(imageSize[0] / stride), Math.ceil(imageSize[1] / stride)] as const;
  });
}

/** Anchors per location of each level (sizes × ratios; 9 for RetinaNet). */
export function anchorsPerLocation(config: AnchorConfig = RETINANET_ANCHORS): number[] {
  return config.sizes.map((sizes) => sizes.length * config.aspectRatios.length);
}

/**
 * All anchors of an image of `imageSize` [H, W] whose feature maps per level are `levelSizes` (default:
 * `featureSizes(imageSize, config)`): levels concatenated, each location-major. torchvision passes the
 * batched size (its transform pads a batch to multiples of 32), not each image's own.
 */
export function generateAnchors(
  imageSize: Size2,
  config: AnchorConfig = RETINANET_ANCHORS,
  levelSizes: readonly Size2[] = featureSizes(imageSize, config),
): AnchorSet {
  checkImageSize(imageSize);
  if (config.sizes.length !== levelSizes.length) {
    throw new Error(`anchor sizes have ${config.sizes.length} levels but there are ${levelSizes.length} feature maps`);
  }
  const levels = levelSizes.map((size, l) => {
    size.forEach((v, i) => {
      checkPositiveInt(v, `feature size of level ${l} [height, width][${i}]`);
    });
    const stride = [Math.floor(imageSize[0] / size[0]), Math.floor(imageSize[1] / size[1])] as const;
    return gridAnchors(cellAnchors(config.sizes[l], config.aspectRatios), size, stride);
  });
  const boxes = new Float32Array(levels.reduce((sum, level) => sum + level.length, 0));
  let offset = 0;
  for (const level of levels) {
    boxes.set(level, offset);
    offset += level.length;
  }
  return { boxes, perLevel: levels.map((level) => level.length / 4) };
}
