/**
 * An image as the model sees it, in the page: decoded by the browser, refused when smaller than the model's
 * input, then resized and centre-cropped with the geometry `sasa predict` uses (data/image_folder/transforms.ts; an image of
 * the input's size is taken as it is, pixel for pixel).
 */
import { evalCropFraction, evalResizeCrop } from '../src/data/image_folder/transforms.js';

export interface PageImage {
  /** size² RGB values in [0, 1]. */
  rgb: Float32Array;
  /** The same pixels for drawing, size × size. */
  pixels: ImageData;
}

/** Decodes the image at `url`; errors name `name`. */
function decode(url: string, name: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`${name}: cannot be decoded as an image`));
    img.src = url;
  });
}

/** The image at `url` prepared for a size × size input. */
export async function loadPageImage(url: string, name: string, size: number): Promise<PageImage> {
  const img = await decode(url, name);
  const [w, h] = [img.naturalWidth, img.naturalHeight];
  if (!(w >= size && h >= size)) {
    throw new Error(`${name}: the image is ${w}×${h}, too small for the model's ${size}×${size} input`);
  }
  const plan = evalResizeCrop(w, h, size, evalCropFraction(size));
  const [sx, sy] = [(plan.crop.left * w) / plan.width, (plan.crop.top * h) / plan.height];
  const [sw, sh] = [(size * w) / plan.width, (size * h) / plan.height];
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  context.imageSmoothingQuality = 'high';
  context.drawImage(img, sx, sy, sw, sh, 0, 0, size, size);
  const pixels = context.getImageData(0, 0, size, size);
  const rgb = new Float32Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = pixels.data[4 * p + c] / 255;
  }
  return { rgb, pixels };
}
