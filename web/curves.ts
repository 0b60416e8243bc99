/**
 * The training curves of the model's run, drawn from the Vega-Lite specs `sasa serve` lists in curves.json
 * (the .vl.json files beside the model). vega and vega-lite are loaded only when there are specs, after the
 * first classification, so they are no part of the page's first load.
 */

const PAGE_FONT = 'system-ui, sans-serif';

interface CurveSpec {
  name: string;
  spec: unknown;
}

async function listCurves(): Promise<CurveSpec[]> {
  const response = await fetch('curves.json').catch(() => null);
  if (!response?.ok) return [];
  const list = (await response.json()) as CurveSpec[];
  return Array.isArray(list) ? list : [];
}

/** Draws every spec into `into` as SVG; shows `section` when there is at least one. */
export async function showCurves(section: HTMLElement, into: HTMLElement): Promise<number> {
  const curves = await listCurves();
  if (curves.length === 0) return 0;
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  for (const { name, spec } of curves) {
    // the specs name the bundled Inter font, which the page does not load: the page's own font instead
    const withFont = { ...(spec as object), config: { ...(spec as { config?: object }).config, font: PAGE_FONT } };
    const compiled = vegaLite.compile(withFont as Parameters<typeof vegaLite.compile>[0]).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const figure = document.createElement('figure');
    figure.innerHTML = await view.toSVG();
    figure.dataset.name = name;
    view.finalize();
    into.append(figure);
  }
  section.hidden = false;
  return curves.length;
}
