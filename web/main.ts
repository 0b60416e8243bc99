/**
 * The page: loads the model served beside it (model/), classifies the bundled sample at once and any image
 * dropped or picked, and draws the attention of the pixel under the mouse for the chosen layer and head.
 * Query parameters: ?backend=cpu (default WebGL, CPU when WebGL fails), ?model=URL (default model/).
 * For tests and tools: document.body.dataset.state ('loading', 'ready', 'classified', 'error'), the top
 * classes in #top5's data-top, the drawn map in #overlay's data-map, and window.sasaPage.
 */
import {
  type AttentionMap,
  attentionLayers,
  attentionMap,
  fetchTrainedModel,
  modelInput,
  type RankedClass,
  type TrainedModel,
  tf,
  topClasses,
} from '../src/browser.js';
import { drawAttention, drawHeads, drawImage } from './attention_view.js';
import { startBackend } from './backend.js';
import { showCurves } from './curves.js';
import { loadPageImage } from './image.js';

const SAMPLE = 'sample.png';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  status: byId<HTMLParagraphElement>('status'),
  error: byId<HTMLParagraphElement>('error'),
  image: byId<HTMLCanvasElement>('image'),
  overlay: byId<HTMLCanvasElement>('overlay'),
  drop: byId<HTMLDivElement>('drop'),
  file: byId<HTMLInputElement>('file'),
  sample: byId<HTMLButtonElement>('sample'),
  layer: byId<HTMLSelectElement>('layer'),
  head: byId<HTMLSelectElement>('head'),
  pixel: byId<HTMLSpanElement>('pixel'),
  heads: byId<HTMLDivElement>('heads'),
  top5: byId<HTMLOListElement>('top5'),
  model: byId<HTMLParagraphElement>('model'),
  curves: byId<HTMLElement>('curves'),
  charts: byId<HTMLDivElement>('charts'),
};

interface PageState {
  trained?: TrainedModel;
  backend?: string;
  /** The classified image's model input [1, S, S, C], and its pixels as drawn. */
  input?: tf.Tensor4D;
  pixels?: ImageData;
  top?: RankedClass[];
  map?: AttentionMap;
  /** performance.now() when the first classification was shown (the page weight counts what came before). */
  firstClassifiedAt?: number;
}
const state: PageState = {};

function showError(err: unknown): void {
  ui.error.textContent = (err as Error).message ?? String(err);
  ui.error.hidden = false;
  document.body.dataset.state = 'error';
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function showTop(top: RankedClass[]): void {
  ui.top5.replaceChildren(
    ...top.map((c) => {
      const li = document.createElement('li');
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round(120 * c.probability)}px`;
      li.append(bar, `${(100 * c.probability).toFixed(1)} %  ${c.label}`);
      return li;
    }),
  );
  ui.top5.dataset.top = JSON.stringify(top);
}

/** Classifies the image at `url` (named `name` in errors) and draws it. */
async function classify(url: string, name: string): Promise<void> {
  const trained = state.trained;
  if (!trained) return;
  clearError();
  const [size, , channels] = trained.inputShape;
  const image = await loadPageImage(url, name, size);
  const x = modelInput(image.rgb, size, channels, trained.normalization);
  state.input?.dispose();
  state.input = tf.tensor4d(x, [1, size, size, channels]);
  const logits = trained.model.predict(state.input) as tf.Tensor;
  const probabilities = tf.tidy(() => tf.softmax(logits).dataSync());
  logits.dispose();
  state.top = topClasses(probabilities, trained.classNames, 5);
  showTop(state.top);
  state.pixels = image.pixels;
  drawImage(ui.image, image.pixels);
  ui.heads.replaceChildren();
  ui.overlay.getContext('2d')?.clearRect(0, 0, ui.overlay.width, ui.overlay.height);
  delete ui.overlay.dataset.map;
  ui.status.textContent = `${name}: classified on ${state.backend}. Move the mouse over the image.`;
  state.firstClassifiedAt ??= performance.now();
  document.body.dataset.state = 'classified';
}

/** The attention of input pixel [x, y] at the chosen layer, drawn for the chosen head. */
function hover(x: number, y: number): AttentionMap | undefined {
  if (!state.trained || !state.input) return undefined;
  const map = attentionMap(state.trained.model, state.input, ui.layer.value, [x, y]);
  const head = Number(ui.head.value);
  drawAttention(ui.overlay, map, head);
  if (state.pixels) drawHeads(ui.heads, map, state.pixels, head);
  state.map = map;
  ui.overlay.dataset.map = JSON.stringify({ ...map, head });
  ui.pixel.textContent = `pixel (${x}, ${y}) → (${map.layerPixel.join(', ')}) of ${map.resolution.join('×')}`;
  return map;
}

function fillHeads(): void {
  const layer = attentionLayers(state.trained?.model as tf.LayersModel).find((l) => l.name === ui.layer.value);
  const heads = Array.from({ length: layer?.heads ?? 0 }, (_, n) => new Option(`head ${n}`, String(n)));
  ui.head.replaceChildren(...heads);
}

function fillLayers(trained: TrainedModel): void {
  const layers = attentionLayers(trained.model);
  ui.layer.replaceChildren(
    ...layers.map((l) => new Option(`${l.name} (${l.resolution.join('×')}, k ${l.kernelSize})`, l.name)),
  );
  fillHeads();
}

/** Classifies the image at `url` as the page's controls do: a failure is shown on the page. */
function run(url: string, name: string): Promise<void> {
  return classify(url, name).catch(showError);
}

function wireInputs(): void {
  ui.sample.addEventListener('click', () => run(SAMPLE, SAMPLE));
  ui.file.addEventListener('change', () => {
    const file = ui.file.files?.[0];
    if (file) run(URL.createObjectURL(file), file.name);
  });
  ui.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) run(URL.createObjectURL(file), file.name);
  });
  ui.overlay.addEventListener('mousemove', (e) => {
    const size = state.trained?.inputShape[0] ?? 1;
    const box = ui.overlay.getBoundingClientRect();
    const x = Math.min(size - 1, Math.floor(((e.clientX - box.left) / box.width) * size));
    const y = Math.min(size - 1, Math.floor(((e.clientY - box.top) / box.height) * size));
    try {
      hover(x, y);
    } catch (err) {
      showError(err);
    }
  });
  ui.layer.addEventListener('change', fillHeads);
  ui.heads.addEventListener('click', (e) => {
    const head = (e.target as HTMLElement).dataset.head;
    if (head === undefined || !state.map) return;
    ui.head.value = head;
    const [x, y] = state.map.pixel;
    hover(x, y);
  });
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  state.backend = await startBackend(params.get('backend'));
  const trained = await fetchTrainedModel(params.get('model') ?? 'model/');
  state.trained = trained;
  const [size, , channels] = trained.inputShape;
  ui.model.textContent = `${trained.config.name ?? 'model'}: ${size}×${size}×${channels} input, ${trained.classNames.length} classes, trained on ${trained.data}; backend ${state.backend}`;
  fillLayers(trained);
  wireInputs();
  document.body.dataset.state = 'ready';
  await classify(SAMPLE, SAMPLE);
  await showCurves(ui.curves, ui.charts).catch((err: Error) => {
    ui.charts.textContent = `The training curves cannot be drawn: ${err.message}`;
    ui.curves.hidden = false;
  });
}

declare global {
  interface Window {
    sasaPage: { state: PageState; classify: typeof run; hover: typeof hover };
  }
}
window.sasaPage = { state, classify: run, hover };
start().catch(showError);
