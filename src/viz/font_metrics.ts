/**
 * Text widths from a TrueType font's own advance widths, so that vega lays out labels, legends and
 * titles for the glyphs resvg will draw (without a canvas vega guesses 0.8 em per character).
 * width(text) = Σ advance(glyph(char)) / unitsPerEm · fontSize; kerning is ignored.
 */
import { readFileSync } from 'node:fs';

/** A font's horizontal metrics: advance of a character code in font units, and the units per em. */
export interface FontMetrics {
  unitsPerEm: number;
  advance(code: number): number;
}

/** The table directory of a TrueType file (glyf outlines, as Inter's .ttf): tag → byte offset. */
function tables(font: Buffer, file: string): Map<string, number> {
  const version = font.length >= 12 ? font.readUInt32BE(0) : 0;
  const count = version === 0x00010000 || version === 0x74727565 ? font.readUInt16BE(4) : 0;
  if (count === 0 || font.length < 12 + 16 * count) throw new Error(`font ${file}: not a TrueType font`);
  const at = new Map<string, number>();
  for (let i = 0; i < count; i++)
    at.set(font.toString('latin1', 12 + 16 * i, 16 + 16 * i), font.readUInt32BE(20 + 16 * i));
  for (const tag of ['head', 'hhea', 'hmtx', 'cmap'])
    if (!((at.get(tag) ?? font.length) < font.length)) throw new Error(`font ${file}: no '${tag}' table`);
  return at;
}

/** The glyph-id lookup of a cmap format 4 subtable (Unicode BMP) at byte offset `sub`. */
function format4(font: Buffer, sub: number): (code: number) => number {
  const segs = font.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const ranges = deltas + 2 * segs;
  return (code) => {
    for (let i = 0; i < segs; i++) {
      if (font.readUInt16BE(ends + 2 * i) < code) continue;
      const start = font.readUInt16BE(starts + 2 * i);
      if (start > code) return 0;
      const delta = font.readUInt16BE(deltas + 2 * i);
      const range = font.readUInt16BE(ranges + 2 * i);
      if (range === 0) return (code + delta) & 0xffff;
      const gid = font.readUInt16BE(ranges + 2 * i + range + 2 * (code - start));
      return gid === 0 ? 0 : (gid + delta) & 0xffff;
    }
    return 0;
  };
}

/** The Unicode (platform 3 encoding 1, or platform 0) format 4 subtable of the cmap at `cmap`. */
function unicodeLookup(font: Buffer, cmap: number, file: string): (code: number) => number {
  const count = font.readUInt16BE(cmap + 2);
  for (let i = 0; i < count; i++) {
    const platform = font.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = font.readUInt16BE(cmap + 6 + 8 * i);
    const sub = cmap + font.readUInt32BE(cmap + 8 + 8 * i);
    if ((platform === 3 && encoding === 1) || platform === 0)
      if (font.readUInt16BE(sub) === 4) return format4(font, sub);
  }
  throw new Error(`font ${file}: no Unicode cmap subtable of format 4`);
}

/** Reads the metrics of the font file at `file`; advances are looked up once per character. */
export function readFontMetrics(file: string): FontMetrics {
  const font = readFileSync(file);
  const at = tables(font, file);
  const unitsPerEm = font.readUInt16BE((at.get('head') as number) + 18);
  const metrics = font.readUInt16BE((at.get('hhea') as number) + 34);
  const hmtx = at.get('hmtx') as number;
  const glyph = unicodeLookup(font, at.get('cmap') as number, file);
  const cache = new Map<number, number>();
  const advance = (code: number) => {
    let a = cache.get(code);
    if (a === undefined) {
      a = font.readUInt16BE(hmtx + 4 * Math.min(code > 0xffff ? 0 : glyph(code), metrics - 1));
      cache.set(code, a);
    }
    return a;
  };
  return { unitsPerEm, advance };
}

/** Width of `text` in pixels at `fontSize` pixels. */
export function textWidth(metrics: FontMetrics, text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) units += metrics.advance(ch.codePointAt(0) as number);
  return (units / metrics.unitsPerEm) * fontSize;
}
