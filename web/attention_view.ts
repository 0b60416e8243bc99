/**
 * The image and one head's attention drawn on the page's two stacked canvases: the image as the model sees
 * it, each input pixel a square; over it the head's k×k weights at the layer's resolution as orange cells
 * (opacity ∝ weight / the head's largest, as `sasa attention-map --out` draws them) and the query pixel
 * outlined.
 */
import type { AttentionMap } from '../src/browser.js';

const WEIGHT_RGB = '255, 106, 0';

/** The image, each input pixel a square of the canvas. */
export function drawImage(canvas: HTMLCanvasElement, pixels: ImageData): void {
  const small = document.createElement('canvas');
  small.width = pixels.width;
  small.height = pixels.height;
  (small.getContext('2d') as CanvasRenderingContext2D).putImageData(pixels, 0, 0);
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/** Head `head` of the map over what `canvas` holds; `clear` first empties it (the overlay canvas). */
export function drawAttention(canvas: HTMLCanvasElement, map: AttentionMap, head: number, clear = true): void {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  if (clear) context.clearRect(0, 0, canvas.width, canvas.height);
  const [h, w] = map.resolution;
  const [cw, ch] = [canvas.width / w, canvas.height / h];
  const [col, row] = map.layerPixel;
  const half = (map.kernelSize - 1) / 2;
  const weights = map.heads[head];
  const top = Math.max(...weights.flat()) || 1;
  weights.forEach((line, da) => {
    line.forEach((weight, db) => {
      const [a, b] = [row + da - half, col + db - half];
      if (a < 0 || a >= h || b < 0 || b >= w || weight <= 0) return;
      context.fillStyle = `rgba(${WEIGHT_RGB}, ${(0.85 * weight) / top})`;
      context.fillRect(b * cw, a * ch, cw, ch);
    });
  });
  context.strokeStyle = '#00e5ff';
  context.lineWidth = Math.max(1, cw / 8);
  context.strokeRect(col * cw, row * ch, cw, ch);
}

/** One small canvas per head, the image with that head's weights over it; `chosen` outlined. */
export function drawHeads(
  into: HTMLElement,
  map: AttentionMap,
  pixels: ImageData,
  chosen: number,
): HTMLCanvasElement[] {
  const tiles = map.heads.map((_, n) => {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 192;
    tile.title = `head ${n}`;
    tile.dataset.head = String(n);
    tile.classList.toggle('chosen', n === chosen);
    drawImage(tile, pixels);
    drawAttention(tile, map, n, false);
    return tile;
  });
  into.replaceChildren(...tiles);
  return tiles;
}
