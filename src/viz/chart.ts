/**
 * A chart is a Vega-Lite spec (data inlined); vega-lite compiles it to Vega, vega lays it out and draws
 * it as SVG, resvg rasterises the SVG with the bundled Inter font only (no system fonts: the same
 * glyphs on every machine, text even where fontconfig has no fonts).
 */
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { type Config, compile, type TopLevelSpec } from 'vega-lite';
import { type FontMetrics, readFontMetrics, textWidth } from './font_metrics.js';

export interface Chart {
  /** The Vega-Lite spec, data inlined: opens as is in the Vega editor or vega-embed. */
  spec: TopLevelSpec;
}

/** The Vega-Lite schema the specs follow. */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** PNG pixels per chart pixel (the spec's width and height are chart pixels). */
export const PIXEL_RATIO = 2;
export const FONT = 'Inter';
/** Inter (SIL Open Font License 1.1) from @expo-google-fonts/inter: labels, then titles. */
const FONT_WEIGHTS = ['400Regular', '700Bold'];

/** Series colours (Tableau 10, Vega's default categorical scheme). */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** Colour of text; of the frame, axis lines and ticks; of grid lines. */
export const INK = '#222222';
const FRAME = '#5a5a5a';
const GRID = '#e1e1e1';

/** The look shared by all plots: font, sizes, grid and frame. */
export const THEME: Config = {
  font: FONT,
  background: 'white',
  padding: 12,
  title: { fontSize: 17, fontWeight: 'bold', color: INK, offset: 10 },
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    labelColor: INK,
    titleColor: INK,
    gridColor: GRID,
    domainColor: FRAME,
    tickColor: FRAME,
  },
  legend: { labelFontSize: 12, titleFontSize: 12, labelColor: INK, titleColor: INK, labelLimit: 0 },
  view: { stroke: FRAME },
};

/** Paths of the bundled font files, resolved from this module (works from src/ and from dist/). */
export function fontFiles(): string[] {
  const require = createRequire(import.meta.url);
  return FONT_WEIGHTS.map((w) => require.resolve(`@expo-google-fonts/inter/${w}/Inter_${w}.ttf`));
}

/** What vega's text measurer is given: a text mark item (vega's default size is 11 px). */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}
type Measure = (item: TextItem, text?: unknown) => number;

let fonts: { regular: FontMetrics; bold: FontMetrics } | undefined;

/** The advance widths of the bundled font's faces, read once per process. */
export function bundledFontMetrics(): { regular: FontMetrics; bold: FontMetrics } {
  if (fonts === undefined) {
    const [regular, bold] = fontFiles().map(readFontMetrics);
    fonts = { regular, bold };
  }
  return fonts;
}

/** Text width in the bundled font's advance widths; bold and weights ≥ 600 measure with the bold face. */
function bundledFontMeasure(): Measure {
  const { regular, bold } = bundledFontMetrics();
  return (item, text) => {
    const size = item.fontSize == null ? 11 : +item.fontSize || 0;
    const heavy = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    return textWidth(heavy ? bold : regular, text == null ? '' : String(text).trim(), size);
  };
}

/** Renders in progress, and the measurer vega had before the first of them began. */
let rendering = 0;
let measureBefore: Measure | undefined;

/**
 * Runs `render` with vega's text measurer (`textMetrics.width`, the hook vl-convert uses too; not in vega's
 * typings) pointed at the bundled font, so labels and legends are laid out for the glyphs resvg draws; the
 * measurer vega had is put back when the last render in progress ends, so other vega users in the process
 * are not changed.
 */
async function withBundledFontMeasure<T>(render: () => Promise<T>): Promise<T> {
  const metrics = (vega as unknown as { textMetrics: { width: Measure } }).textMetrics;
  if (rendering++ === 0) {
    measureBefore = metrics.width;
    metrics.width = bundledFontMeasure();
  }
  try {
    return await render();
  } finally {
    if (--rendering === 0 && measureBefore !== undefined) metrics.width = measureBefore;
  }
}

/** The chart drawn by vega as an SVG document (width × height in chart pixels). */
export function renderSvg(chart: Chart): Promise<string> {
  return withBundledFontMeasure(async () => {
    // vega tags the data rows it ingests: give it a copy, so the caller's spec stays plain JSON
    const spec = compile(structuredClone(chart.spec)).spec;
    const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  });
}

/** The chart as PNG bytes at `pixelRatio` × its size, text drawn with the bundled font only. */
export async function renderPng(chart: Chart, pixelRatio = PIXEL_RATIO): Promise<Buffer> {
  if (!Number.isFinite(pixelRatio) || pixelRatio <= 0 || pixelRatio > 8)
    throw new Error(`renderPng: pixelRatio must be a number in (0, 8], got ${pixelRatio}`);
  const svg = await renderSvg(chart);
  const font = { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT, sansSerifFamily: FONT };
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: pixelRatio }, font }).render().asPng();
}
