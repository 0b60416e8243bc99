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
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import type { AttentionGeometry } from '../local_attention/options.js';
import { type AttentionOutput, glslFloat, softmaxResult, softmaxStart, softmaxStep } from './glsl.js';
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

/** GLSL filling rowLogit[t] / colLogit[t] from the head's groups below / above C/2. */
function relativeLogits(g: AttentionGeometry): string {
  if (!g.useQR) return '';
  return `
  float rowLogit[KSIZE];
  float colLogit[KSIZE];
  for (int t = 0; t < KSIZE; t++) {
    float row = 0.0;
    float col = 0.0;
    for (int u = 0; u < HEAD_GROUPS; u++) {
      int group = first + u;
      if (group < HALF_GROUPS) row += dot(query[u], getRelRow(2 * (t * HALF_GROUPS + group), 0));
      else col += dot(query[u], getRelCol(2 * (t * HALF_GROUPS + group - HALF_GROUPS), 0));
    }
    rowLogit[t] = row;
    colLogit[t] = col;
  }`;
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
    const relative = g.useQR ? 'rowLogit[da] + colLogit[db]' : '0.0';
    const keyTerm = g.useQK
      ? 'if (inside) for (int u = 0; u < HEAD_GROUPS; u++) logit += dot(query[u], readK(neighbour, first + u));'
      : '';
    const value = output === 'y' ? 'inside ? readV(neighbour, group) : vec4(0.0)' : '0.0';
    this.userCode = `
const int HEIGHT = ${height};
const int WIDTH = ${width};
const int KSIZE = ${kernelSize};
const int HALF_K = ${(kernelSize - 1) / 2};
const int GROUPS = ${channels / 4};
const int HEAD_GROUPS = ${channels / heads / 4};
const int HALF_GROUPS = ${Math.floor(channels / 8)};
const float SCALE = ${glslFloat(g.scale)};
${read.code}

void main() {
  ${read.start}
  ${fragmentPosition(output)}
  vec4 query[HEAD_GROUPS];
  for (int u = 0; u < HEAD_GROUPS; u++) query[u] = SCALE * readQ(pixel, first + u);
  ${relativeLogits(g)}
  ${softmaxStart(output === 'y' ? 'vec4' : 'float')}
  for (int da = 0; da < KSIZE; da++) {
    int a = i + da - HALF_K;
    bool rowInside = a >= 0 && a < HEIGHT;
    ${g.masked ? 'if (!rowInside) continue;' : ''}
    for (int db = 0; db < KSIZE; db++) {
      int bb = j + db - HALF_K;
      bool inside = rowInside && bb >= 0 && bb < WIDTH;
      ${g.masked ? 'if (!inside) continue;' : ''}
      int neighbour = imageStart + a * WIDTH + bb;
      float logit = ${relative};
      ${keyTerm}
      ${softmaxStep('logit', value)}
    }
  }
  ${softmaxResult(output)}
}
`;
  }
}
