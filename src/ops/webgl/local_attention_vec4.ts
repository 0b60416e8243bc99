/**
 * Local attention in groups of four channels: the same formula as LocalAttentionProgram
 * (local_attention.ts), with every tensor read and written as vec4 texels of four consecutive
 * channels. The inputs are viewed as packed [n/2, 2] matrices (tfjs packs a 2×2 block per texel,
 * which for a [rows, 2] matrix is four consecutive values), so one fetch brings four channels and
 * one fragment writes four: a quarter of the scalar program's fetches and fragments.
 *   y: packed [B·H·W·C/2, 2] (reshaped to [B, H, W, C] by the kernel), one fragment per pixel and
 *      group g of channels [4g, 4g+4), which lies in one head (D % 4 = 0) and, with relative
 *      logits, in one half of the channels (C % 8 = 0);
 *   lse: [B, H, W, N], one fragment per pixel and head.
 * Inputs: q, k, v (or qkv = q|k|v, q|v) as [B·H·W·P·C/2, 2]; relRow, relCol as [k·C/4, 2].
 * q, k and v are read with texelFetch (WebGL 2) at texel pixel·P·C/4 + group, the texture's width
 * coming from the shape uniforms tfjs declares (enableShapeUniforms).
 * The window is unrolled when the program is generated (k, the head's groups and every table index
 * are constants): the k² logits first, then their maximum and one exp each, so the shader has no loop,
 * no local array and no data-dependent branch (SwiftShader runs those slowly).
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import type { AttentionGeometry } from '../local_attention/options.js';
import { type AttentionOutput, glslFloat } from './glsl.js';
import type { QkvLayout } from './local_attention.js';

/** Whether the vec4 program applies: heads of whole channel groups, and halves of whole groups with relative logits. */
export function fitsVec4(g: AttentionGeometry): boolean {
  return (g.channels / g.heads) % 4 === 0 && (!g.useQR || g.channels % 8 === 0);
}

/**
 * GLSL fetch of texel t of a packed input, by texelFetch: tfjs lays a packed texture's texels out
 * row-major over ceil(texShape / 2) (its sampler functions do the same with three integer divisions
 * per read, which SwiftShader runs lane by lane; here the row is a float product, corrected).
 */
function fetcher(input: string): string {
  return `
int ${input}Columns;
float ${input}Inverse;
vec4 fetch${input}(int t) {
  int row = int((float(t) + 0.5) * ${input}Inverse);
  int col = t - row * ${input}Columns;
  if (col >= ${input}Columns) { row += 1; col -= ${input}Columns; }
  if (col < 0) { row -= 1; col += ${input}Columns; }
  return texelFetch(${input}, ivec2(col, row), 0);
}`;
}

/** GLSL setting a fetcher's texture width (in main, from the TexShape uniform tfjs declares). */
const fetcherStart = (input: string) => `
  ${input}Columns = (${input}TexShape[1] + 1) / 2;
  ${input}Inverse = 1.0 / float(${input}Columns);`;

/** GLSL readers readQ/readK/readV(pixel, group) of four channels, and the program's input names. */
function readers(g: AttentionGeometry, layout: QkvLayout): { inputs: string[]; code: string; start: string } {
  const groups = g.channels / 4;
  const tables = g.useQR ? ['relRow', 'relCol'] : [];
  const reader = (name: string, input: string, stride: number, offset: number) =>
    `vec4 read${name}(int pixel, int group) { return fetch${input}(pixel * ${stride} + ${offset} + group); }`;
  if (layout === 'packed') {
    const stride = (g.useQK ? 3 : 2) * groups;
    const code = [
      fetcher('qkv'),
      reader('Q', 'qkv', stride, 0),
      g.useQK ? reader('K', 'qkv', stride, groups) : '',
      reader('V', 'qkv', stride, stride - groups),
    ];
    return { inputs: ['qkv', ...tables], code: code.join('\n'), start: fetcherStart('qkv') };
  }
  const used = ['q', ...(g.useQK ? ['k'] : []), 'v'];
  const code = [
    ...used.map(fetcher),
    reader('Q', 'q', groups, 0),
    g.useQK ? reader('K', 'k', groups, 0) : '',
    reader('V', 'v', groups, 0),
  ];
  return { inputs: [...used, ...tables], code: code.join('\n'), start: used.map(fetcherStart).join('') };
}

/** `count` lines of `line(t)` for t = 0 … count - 1: loops unrolled at generation, every index a constant. */
const unrolled = (count: number, line: (t: number) => string) =>
  Array.from({ length: count }, (_, t) => line(t)).join('\n');

/**
 * GLSL declaring rowLogit<t> / colLogit<t> (t < k), the query's products with the relative tables:
 * the head's groups below C/2 meet relRow, those above meet relCol.
 */
function relativeLogits(g: AttentionGeometry): string {
  const { kernelSize: k } = g;
  const groups = g.channels / g.heads / 4;
  if (!g.useQR) return unrolled(k, (t) => `  float rowLogit${t} = 0.0;\n  float colLogit${t} = 0.0;`);
  const lower = unrolled(groups, (u) => `  bool lower${u} = first + ${u} < HALF_GROUPS;`);
  const sums = unrolled(k, (t) => {
    const terms = (table: string, offset: string, lower: boolean) =>
      Array.from({ length: groups }, (_, u) => {
        const texel = `get${table}(2 * (${t * Math.floor(g.channels / 8)} + first + ${u}${offset}), 0)`;
        return `(lower${u} == ${lower} ? dot(query${u}, ${texel}) : 0.0)`;
      }).join(' + ');
    return `  float rowLogit${t} = ${terms('RelRow', '', true)};\n  float colLogit${t} = ${terms('RelCol', ' - HALF_GROUPS', false)};`;
  });
  return `${lower}\n${sums}`;
}

/** Where a fragment is: y fragments are (pixel, channel group), lse fragments (b, i, j, head). */
function fragmentPosition(output: AttentionOutput): string {
  if (output === 'y') {
    return `
  int index = getOutputCoords().x / 2;
  int pixel = index / GROUPS;
  int group = index - pixel * GROUPS;
  int first = (group / HEAD_GROUPS) * HEAD_GROUPS;
  int j = pixel - (pixel / WIDTH) * WIDTH;
  int i = (pixel / WIDTH) - (pixel / (WIDTH * HEIGHT)) * HEIGHT;
  int imageStart = pixel - i * WIDTH - j;`;
  }
  return `
  ivec4 coords = getOutputCoords();
  int i = coords.y;
  int j = coords.z;
  int imageStart = coords.x * HEIGHT * WIDTH;
  int pixel = imageStart + i * WIDTH + j;
  int first = coords.w * HEAD_GROUPS;`;
}

/**
 * GLSL of the window's rows and columns t < k: rowStart<t> / column<t> (clamped into the image, so
 * every read is valid) and rowInside<t> / columnInside<t> (1.0 where the position lies in the image).
 */
function windowPositions(kernelSize: number): string {
  const half = (kernelSize - 1) / 2;
  return unrolled(
    kernelSize,
    (t) => `
  int a${t} = i + (${t - half});
  float rowInside${t} = a${t} >= 0 && a${t} < HEIGHT ? 1.0 : 0.0;
  int rowStart${t} = imageStart + clamp(a${t}, 0, HEIGHT - 1) * WIDTH;
  int b${t} = j + (${t - half});
  float columnInside${t} = b${t} >= 0 && b${t} < WIDTH ? 1.0 : 0.0;
  int column${t} = clamp(b${t}, 0, WIDTH - 1);`,
  );
}

/**
 * GLSL of the k² logits logit<n> (n = da·k + db) and their maximum maxLogit: relative terms plus,
 * with 'qk', the query's product with the neighbour's key (zero outside the image with 'zeros',
 * the position dropped by a logit of -1e30 with 'masked').
 */
function windowLogits(g: AttentionGeometry): string {
  const k = g.kernelSize;
  const groups = g.channels / g.heads / 4;
  const key = unrolled(groups, (u) => `dot(query${u}, readK(neighbour, first + ${u}))`).replaceAll('\n', ' + ');
  const taps = unrolled(k * k, (n) => {
    const [da, db] = [Math.floor(n / k), n % k];
    const keyTerm = !g.useQK ? '' : g.masked ? ` + ${key}` : ` + inside${n} * (${key})`;
    return `
  float inside${n} = rowInside${da} * columnInside${db};
  int neighbour${n} = rowStart${da} + column${db};
  float logit${n} = rowLogit${da} + colLogit${db}${keyTerm.replaceAll('neighbour', `neighbour${n}`)};${
    g.masked ? `\n  logit${n} = inside${n} > 0.5 ? logit${n} : -1.0e30;` : ''
  }`;
  });
  const maximum = unrolled(k * k - 1, (n) => `  maxLogit = max(maxLogit, logit${n + 1});`);
  return `${taps}\n  float maxLogit = logit0;\n${maximum}`;
}

/** GLSL of the softmax over the window and the output: y = Σ exp(logit - max)·v / Σ exp(…), or lse. */
function windowSoftmax(g: AttentionGeometry, output: AttentionOutput): string {
  const k2 = g.kernelSize * g.kernelSize;
  const value = (n: number) => `${g.masked ? '' : `inside${n} * `}readV(neighbour${n}, group)`;
  const steps = unrolled(k2, (n) => {
    const e = `  float expLogit${n} = exp(logit${n} - maxLogit);\n  expSum += expLogit${n};`;
    return output === 'y' ? `${e}\n  weighted += expLogit${n} * ${value(n)};` : e;
  });
  const result = output === 'y' ? 'setOutput(weighted / expSum);' : 'setOutput(maxLogit + log(expSum));';
  return `  float expSum = 0.0;\n  vec4 weighted = vec4(0.0);\n${steps}\n  ${result}`;
}

/** y (packed [B·H·W·C/2, 2]) or lse [B, H, W, N] of local attention, four channels per fetch. */
export class LocalAttentionVec4Program implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  packedInputs = true;
  packedOutput: boolean;
  enableShapeUniforms = true;

  constructor(g: AttentionGeometry, layout: QkvLayout, output: AttentionOutput) {
    const { batch, height, width, channels, heads, kernelSize } = g;
    const read = readers(g, layout);
    this.variableNames = read.inputs;
    this.packedOutput = output === 'y';
    this.outputShape = output === 'y' ? [(batch * height * width * channels) / 2, 2] : [batch, height, width, heads];
    this.userCode = `
const int HEIGHT = ${height};
const int WIDTH = ${width};
const int GROUPS = ${channels / 4};
const int HEAD_GROUPS = ${channels / heads / 4};
const int HALF_GROUPS = ${Math.floor(channels / 8)};
const float SCALE = ${glslFloat(g.scale)};
${read.code}

void main() {
  ${read.start}
  ${fragmentPosition(output)}
  ${unrolled(channels / heads / 4, (u) => `  vec4 query${u} = SCALE * readQ(pixel, first + ${u});`)}
  ${relativeLogits(g)}
  ${windowPositions(kernelSize)}
  ${windowLogits(g)}
  ${windowSoftmax(g, output)}
}
`;
  }
}
