/**
 * An attention map as a PNG: one tile per head, in a grid, each the image at the layer's resolution (every
 * layer pixel a cell) with the head's k×k weights drawn over it as orange cells (opacity ∝ weight / the
 * head's largest weight) and the query pixel outlined; a title names the layer and the pixel. An SVG with
 * the tiles embedded as PNG data URIs, rasterised by resvg with the bundled Inter font only (chart.ts).
 */
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { FONT, fontFiles } from './chart.js';

/** What the drawing needs of an attention map (tasks/classification/attention_map.ts AttentionMap). */
export interface DrawnAttention {
  layer: string;
  pixel: readonly [number, number];
  layerPixel: readonly [number, number];
  resolution: readonly [number, number];
  kernelSize: number;
  heads: readonly (readonly (readonly number[])[])[];
}

const TILE_PX = 224;
const GAP = 12;
const LABEL = 18;
const TITLE = 28;
const WEIGHT_COLOUR = '#ff6a00';

/** The image [height, width, 3] at the layer's resolution, each pixel a cell × cell square, as PNG bytes. */
async function cellImage(
  rgb: { data: Uint8Array; width: number; height: number },
  res: readonly number[],
  cell: number,
) {
  const [h, w] = res;
  const small = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return sharp(small, { raw: { width: w, height: h, channels: 3 } })
    .resize(w * cell, h * cell, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/** The weights of one head over its tile at (x0, y0): a rect per window position inside the layer. */
function headCells(m: DrawnAttention, head: readonly (readonly number[])[], cell: number, x0: number, y0: number) {
  const [h, w] = m.resolution;
  const [col, row] = m.layerPixel;
  const half = (m.kernelSize - 1) / 2;
  const top = Math.max(...head.flat()) || 1;
  const parts: string[] = [];
  head.forEach((line, da) => {
    line.forEach((weight, db) => {
      const [a, b] = [row + da - half, col + db - half];
      if (a < 0 || a >= h || b < 0 || b >= w || weight <= 0) return;
      const opacity = (0.85 * weight) / top;
      parts.push(
        `<rect x="${x0 + b * cell}" y="${y0 + a * cell}" width="${cell}" height="${cell}" fill="${WEIGHT_COLOUR}" fill-opacity="${opacity.toFixed(3)}"/>`,
      );
    });
  });
  const stroke = Math.max(1, cell / 8);
  parts.push(
    `<rect x="${x0 + col * cell}" y="${y0 + row * cell}" width="${cell}" height="${cell}" fill="none" stroke="#00e5ff" stroke-width="${stroke}"/>`,
  );
  return parts.join('');
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);

/** The SVG of the grid, given the tile image as PNG bytes. */
export function attentionMapSvg(m: DrawnAttention, tilePng: Uint8Array, cell: number): string {
  const [h, w] = m.resolution;
  const [tw, th] = [w * cell, h * cell];
  const columns = Math.min(m.heads.length, 4);
  const rows = Math.ceil(m.heads.length / columns);
  const width = GAP + columns * (tw + GAP);
  const height = TITLE + rows * (LABEL + th + GAP);
  const href = `data:image/png;base64,${Buffer.from(tilePng).toString('base64')}`;
  const text = (x: number, y: number, size: number, s: string) =>
    `<text x="${x}" y="${y}" font-family="${FONT}" font-size="${size}" fill="#222">${escapeXml(s)}</text>`;
  const title = `${m.layer} · pixel (${m.pixel.join(', ')}) → (${m.layerPixel.join(', ')}) of ${w}×${h} · k = ${m.kernelSize}`;
  const tiles = m.heads.map((head, n) => {
    const x0 = GAP + (n % columns) * (tw + GAP);
    const y0 = TITLE + Math.floor(n / columns) * (LABEL + th + GAP) + LABEL;
    return (
      text(x0, y0 - 5, 13, `head ${n}`) +
      `<image href="${href}" x="${x0}" y="${y0}" width="${tw}" height="${th}"/>` +
      headCells(m, head, cell, x0, y0)
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>${text(GAP, 19, 14, title)}${tiles.join('')}</svg>`
  );
}

/** The attention map drawn over the image (RGB bytes [height, width, 3], as the model sees it), as PNG bytes. */
export async function drawAttentionMap(
  rgb: { data: Uint8Array; width: number; height: number },
  m: DrawnAttention,
): Promise<Buffer> {
  const cell = Math.max(4, Math.floor(TILE_PX / Math.max(...m.resolution)));
  const tile = await cellImage(rgb, m.resolution, cell);
  const font = { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT, sansSerifFamily: FONT };
  return new Resvg(attentionMapSvg(m, tile, cell), { font }).render().asPng();
}
