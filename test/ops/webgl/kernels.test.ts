/**
 * sasa's WebGL kernels (src/ops/webgl) against the TypeScript / composed kernels, in headless
 * Chromium (WebGL 2 on SwiftShader): each case runs in one page on the 'webgl' backend and on the
 * 'cpu' backend from the same seeded inputs (page/main.ts), and y, lse and a gradient (the backward
 * kernels fed the forward kernel's lse: training on WebGL) must agree to 1e-3.
 * Cases: k 3/5/7 (and a window larger than the image), 1 to 5 heads (heads straddling the
 * relRow/relCol halves), every logits mode, both paddings, odd sizes, batch 2; the packed layout;
 * the stem with one or s² value matrices, with and without relative logits, d_in 1 to 3.
 * Needs Debian's chromium (.ci/run installs it); skipped, saying so, only where it is absent.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromiumMissing, type OpenPage, openPage } from '../../web/chromium.js';
import type { CaseResult, KernelCase } from './page/main.js';

const TOLERANCE = 1e-3;

const CASES: [string, KernelCase][] = [
  [
    'k3, 2 heads, qk+qr, zeros, 5×7',
    { op: 'localAttention2d', shape: [1, 5, 7, 8], options: { kernelSize: 3, heads: 2 } },
  ],
  [
    'k5, 3 heads straddling the halves, qk, masked, batch 2, 9×6',
    {
      op: 'localAttention2d',
      shape: [2, 9, 6, 12],
      options: { kernelSize: 5, heads: 3, logits: 'qk', padding: 'masked' },
    },
  ],
  [
    'k7, 4 heads, qr, zeros, 11×13',
    { op: 'localAttention2d', shape: [1, 11, 13, 16], options: { kernelSize: 7, heads: 4, logits: 'qr' } },
  ],
  [
    'k7 over a 4×3 image, 1 head, qk+qr, masked',
    { op: 'localAttention2d', shape: [1, 4, 3, 6], options: { kernelSize: 7, heads: 1, padding: 'masked' } },
  ],
  [
    'k5, 2 heads of 8 channels, qk+qr, zeros, batch 2, 9×7',
    { op: 'localAttention2d', shape: [2, 9, 7, 16], options: { kernelSize: 5, heads: 2 } },
  ],
  [
    'k5, 3 heads of 8 straddling the halves, qk+qr, masked, batch 2, 6×9',
    { op: 'localAttention2d', shape: [2, 6, 9, 24], options: { kernelSize: 5, heads: 3, padding: 'masked' } },
  ],
  [
    'k5, 5 heads, qk+qr, zeros, scale 0.3, 13×9',
    { op: 'localAttention2d', shape: [1, 13, 9, 20], options: { kernelSize: 5, heads: 5, scale: 0.3 } },
  ],
  [
    'packed k3, 2 heads, qk+qr, 7×5',
    { op: 'localAttention2dPacked', shape: [1, 7, 5, 8], options: { kernelSize: 3, heads: 2 } },
  ],
  [
    'packed k5, 3 heads, qr (q|v), 9×11',
    { op: 'localAttention2dPacked', shape: [1, 9, 11, 12], options: { kernelSize: 5, heads: 3, logits: 'qr' } },
  ],
  [
    'packed k7, 4 heads, qk, masked, batch 2, 6×6',
    {
      op: 'localAttention2dPacked',
      shape: [2, 6, 6, 16],
      options: { kernelSize: 7, heads: 4, logits: 'qk', padding: 'masked' },
    },
  ],
  [
    'stem 4×4 blocks, d_in 3, 16 filters, 4 heads, s² value matrices, relative',
    { op: 'stemAttention', blocks: 7, block: 4, inChannels: 3, filters: 16, positions: 16, heads: 4, relative: true },
  ],
  [
    'stem 4×4 blocks, d_in 1, 8 filters, 2 heads, one value matrix, no relative logits',
    { op: 'stemAttention', blocks: 5, block: 4, inChannels: 1, filters: 8, positions: 1, heads: 2, relative: false },
  ],
  [
    'stem 3×3 blocks, d_in 2, 12 filters, 3 heads, s² value matrices, relative',
    { op: 'stemAttention', blocks: 3, block: 3, inChannels: 2, filters: 12, positions: 9, heads: 3, relative: true },
  ],
];

const missing = chromiumMissing();

describe('WebGL kernels against the TypeScript kernels in headless Chromium', { skip: missing }, () => {
  let opened: OpenPage;
  let results: CaseResult[];

  before(async () => {
    opened = await openPage(join(dirname(fileURLToPath(import.meta.url)), 'page'));
    const cases = CASES.map(([, c]) => c);
    try {
      results = (await opened.page.evaluate(
        (list) => (window as unknown as { sasaKernelCheck(c: unknown): Promise<unknown> }).sasaKernelCheck(list),
        cases,
      )) as CaseResult[];
    } catch (e) {
      throw new Error(`${(e as Error).message}\npage errors: ${opened.errors.join('\n')}`);
    }
  });

  after(async () => {
    await opened?.close();
  });

  for (const [index, [name]] of CASES.entries()) {
    it(name, (t) => {
      const r = results[index];
      const errors = [r.yError, r.lseError, r.gradError].map((e) => e.toExponential(2));
      t.diagnostic(`max |Δy| ${errors[0]}, max |Δlse| ${errors[1]}, max |Δgradient| ${errors[2]}`);
      assert.ok(r.webglKernel, 'the webgl backend ran a kernel other than sasa’s WebGL one');
      assert.ok(r.yLargest > 0.01, `y is nearly zero (${r.yLargest}): the comparison would say little`);
      assert.ok(r.gradLargest > 0.01, `the gradient is nearly zero (${r.gradLargest})`);
      assert.ok(r.yError <= TOLERANCE, `y differs by ${r.yError} > ${TOLERANCE}`);
      assert.ok(r.lseError <= TOLERANCE, `lse differs by ${r.lseError} > ${TOLERANCE}`);
      assert.ok(r.gradError <= TOLERANCE, `the gradient differs by ${r.gradError} > ${TOLERANCE}`);
      assert.equal(r.leaked, 0, 'tensors left behind');
    });
  }

  it('leaves no errors in the page', () => {
    assert.deepEqual(opened.errors, []);
  });
});
