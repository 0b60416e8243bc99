/**
 * Detections drawn on their image as a PNG: an SVG with the image embedded (a PNG data URI), a coloured
 * rectangle per box and a label "name 0.93" on a filled tab above it, rasterised by resvg with the bundled
 * Inter font only (chart.ts fontFiles: no system fonts needed).
 */
import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { FONT, fontFiles, PALETTE } from './chart.js';

export interface DrawnBox {
  /** xyxy in the image's pixels. */
  box: readonly [number, number, number, number];
  label: string;
  score: number;
  /** Picks the colour (PALETTE, cycled). */
  classIndex: number;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);

/** The SVG of `boxes` over the image whose PNG bytes are `png` (width × height). */
export function detectionsSvg(png: Uint8Array, width: number, height: number, boxes: readonly DrawnBox[]): string {
  const stroke = Math.max(1.5, Math.min(width, height) / 200);
  const fontSize = Math.max(10, Math.min(width, height) / 30);
  const parts = boxes.map(({ box: [x1, y1, x2, y2], label, score, classIndex }) => {
    const colour = PALETTE[classIndex % PALETTE.length];
    const text = `${escapeXml(label)} ${score.toFixed(2)}`;
    const tabWidth = text.length * fontSize * 0.58 + 6;
    const tabY = y1 >= fontSize + 4 ? y1 - fontSize - 4 : y1;
    return (
      `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${x1}" y="${tabY}" width="${tabWidth}" height="${fontSize + 4}" fill="${colour}"/>` +
      `<text x="${x1 + 3}" y="${tabY + fontSize}" font-family="${FONT}" font-size="${fontSize}" fill="#ffffff">${text}</text>`
    );
  });
  const href = `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<image href="${href}" x="0" y="0" width="${width}" height="${height}"/>${parts.join('')}</svg>`
  );
}

/** A PNG of RGB pixels [height, width, 3] with `boxes` drawn on. */
export async function drawDetections(
  rgb: { data: Uint8Array; width: number; height: number },
  boxes: readonly DrawnBox[],
): Promise<Buffer> {
  const { data, width, height } = rgb;
  const png = await sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  const font = { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT, sansSerifFamily: FONT };
  return new Resvg(detectionsSvg(png, width, height, boxes), { font }).render().asPng();
}
