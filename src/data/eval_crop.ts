/**
 * The evaluation geometry of an image (torchvision's Resize + CenterCrop), as data: what `sasa predict`,
 * the image folders' evaluation batches and the web page share (no Node modules here).
 */

/** Python's round(): halves to the even neighbour (torchvision's geometry rounds this way). */
export function pyRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A region of an image: rows top..top+height-1, columns left..left+width-1. */
export interface CropRegion {
  top: number;
  left: number;
  width: number;
  height: number;
}

/**
 * Evaluation geometry (torchvision Resize(round(size / cropFraction)) + CenterCrop(size)): the shorter side
 * resized to `resize`, the longer one to floor(resize × long / short), then the centered size × size crop.
 */
export function evalResizeCrop(
  width: number,
  height: number,
  size: number,
  cropFraction = 0.875,
): { width: number; height: number; crop: CropRegion } {
  const resize = pyRound(size / cropFraction);
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const longResized = Math.max(resize, Math.floor((resize * long) / short));
  const rw = width <= height ? resize : longResized;
  const rh = width <= height ? longResized : resize;
  const crop = { top: pyRound((rh - size) / 2), left: pyRound((rw - size) / 2), width: size, height: size };
  return { width: rw, height: rh, crop };
}

/**
 * The evaluation crop fraction for `size`-pixel inputs: small images (up to 64 pixels) are seen whole,
 * resized; larger ones through ImageNet's center crop of 0.875.
 */
export function evalCropFraction(size: number): number {
  return size <= 64 ? 1 : 0.875;
}
