/**
 * Transpose, Slice, SplitV, Concat and PadV2 on the native backend against tfjs's JS kernels: ranks 1–6,
 * identity perms, perms that move the last axis (tiled and gathered paths), the 6-D block
 * rearrangement of the attention layers, zero-size and full-size slices, pads with zero and
 * non-zero constants, empty tensors, gradients, int32 fallbacks and bad input. Copies are exact.
 */
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { registerNativeBackend } from '../../src/backend/native.js';
import * as tf from '../../src/tf.js';
import {
  compareOnBackends,
  describeNative,
  FAST,
  gradsOf,
  randTensor,
  setup,
  useBackend,
  weightedSum,
} from '../helpers.js';

const exact = { tol: 0 };

interface TransposeCase {
  shape: number[];
  perm: number[];
  fast?: boolean;
}

const transposeCases: TransposeCase[] = [
  { shape: [7], perm: [0] },
  { shape: [5, 7], perm: [1, 0], fast: true },
  { shape: [5, 7], perm: [0, 1] },
  { shape: [67, 130], perm: [1, 0], fast: true },
  { shape: [3, 50], perm: [1, 0] },
  { shape: [50, 3], perm: [1, 0] },
  ...[
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ].map((perm) => ({ shape: [3, 4, 5], perm })),
  { shape: [2, 3, 4, 5], perm: [0, 1, 2, 3] },
  { shape: [2, 3, 4, 5], perm: [0, 2, 3, 1], fast: true },
  { shape: [2, 3, 4, 5], perm: [0, 3, 1, 2] },
  { shape: [2, 3, 4, 5], perm: [3, 2, 1, 0] },
  { shape: [2, 3, 4, 5], perm: [1, 0, 3, 2] },
  { shape: [1, 5, 1, 3], perm: [2, 3, 0, 1] },
  { shape: [4, 5, 1], perm: [2, 1, 0] },
  { shape: [2, 3, 2, 3, 4], perm: [4, 0, 3, 1, 2] },
  { shape: [2, 3, 4, 3, 4, 8], perm: [0, 1, 3, 2, 4, 5], fast: true },
  { shape: [2, 3, 4, 3, 4, 8], perm: [5, 4, 3, 2, 1, 0] },
  { shape: [2, 4, 4, 4, 4, 32], perm: [0, 1, 3, 2, 4, 5] },
  { shape: [2, 4, 4, 4, 4, 32], perm: [0, 2, 4, 1, 3, 5] },
  { shape: [4, 64, 64, 16], perm: [0, 2, 1, 3], fast: true },
  { shape: [64, 128, 33], perm: [2, 1, 0] },
  { shape: [0, 3, 4], perm: [2, 0, 1], fast: true },
  { shape: [3, 0], perm: [1, 0] },
  { shape: [1, 1, 1], perm: [2, 0, 1] },
];

interface SliceCase {
  shape: number[];
  begin: number[] | number;
  size?: number[] | number;
  fast?: boolean;
}

const sliceCases: SliceCase[] = [
  { shape: [10], begin: 3, size: 4 },
  { shape: [5, 6, 7], begin: [1, 2, 3], size: [2, 3, 4], fast: true },
  { shape: [5, 6, 7], begin: [1, 2, 3], size: [-1, -1, -1] },
  { shape: [5, 6, 7], begin: [4, 5, 6], size: [1, 1, 1] },
  { shape: [5, 6, 7], begin: [0, 0, 6], size: [5, 6, 1], fast: true },
  { shape: [5, 6, 7], begin: [0, 0, 0], size: [5, 6, 7] },
  { shape: [5, 6, 7], begin: [2, 0, 0], size: [2, 6, 7] },
  { shape: [5, 6, 7], begin: [5, 0, 0], size: [0, 6, 7], fast: true },
  { shape: [5, 6, 7], begin: [1, 2, 7], size: [2, 3, 0] },
  { shape: [10, 5], begin: [0, 2], size: [10, 1] },
  { shape: [10, 5], begin: [1], size: [3] },
  { shape: [4, 10, 10, 16], begin: [0, 1, 1, 0], size: [4, 8, 8, 16], fast: true },
  { shape: [64, 10, 10, 32], begin: [0, 1, 1, 0], size: [64, 8, 8, 32] },
  { shape: [2, 3, 4, 3, 4, 5], begin: [1, 0, 1, 1, 0, 2], size: [1, 3, 2, 2, 4, 3] },
  { shape: [0, 4], begin: [0, 1], size: [0, 2] },
];

interface PadCase {
  shape: number[];
  paddings: Array<[number, number]>;
  value?: number;
  fast?: boolean;
}

const padCases: PadCase[] = [
  { shape: [7], paddings: [[2, 3]] },
  { shape: [7], paddings: [[0, 1]], value: -2 },
  {
    shape: [3, 4],
    paddings: [
      [1, 2],
      [0, 3],
    ],
    fast: true,
  },
  {
    shape: [3, 4],
    paddings: [
      [1, 2],
      [0, 3],
    ],
    value: 1.5,
    fast: true,
  },
  {
    shape: [3, 4],
    paddings: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    shape: [2, 3, 4, 5],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    fast: true,
  },
  {
    shape: [2, 3, 4, 5],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
    value: -0.5,
  },
  {
    shape: [2, 3, 4, 5],
    paddings: [
      [1, 0],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  },
  {
    shape: [2, 3, 4, 5],
    paddings: [
      [0, 0],
      [0, 0],
      [0, 0],
      [2, 1],
    ],
    value: 3,
  },
  {
    shape: [2, 3, 4, 5],
    paddings: [
      [1, 2],
      [2, 1],
      [0, 3],
      [1, 0],
    ],
    value: 0.25,
  },
  {
    shape: [1, 1, 3],
    paddings: [
      [2, 0],
      [0, 2],
      [1, 1],
    ],
  },
  {
    shape: [64, 8, 8, 32],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  {
    shape: [2, 3, 2, 3, 2, 3],
    paddings: [
      [0, 1],
      [1, 0],
      [0, 0],
      [2, 2],
      [0, 0],
      [1, 1],
    ],
    value: 7,
  },
  {
    shape: [0, 3],
    paddings: [
      [1, 1],
      [2, 0],
    ],
    value: 2,
    fast: true,
  },
  {
    shape: [2, 0, 3],
    paddings: [
      [0, 0],
      [0, 0],
      [1, 1],
    ],
  },
];

const pick = <T extends { fast?: boolean }>(cases: T[]) => (FAST ? cases.filter((c) => c.fast) : cases);
const seedOf = (i: number) => 100 + i;

before(async () => {
  await setup();
});

describeNative('Transpose, Slice, SplitV, Concat, PadV2 (layout kernels)', () => {
  it('are registered on the native backend', () => {
    const { kernels } = registerNativeBackend();
    for (const k of ['Transpose', 'Slice', 'SplitV', 'Concat', 'PadV2'])
      assert.ok(kernels.includes(k), `${k} is not native`);
  });

  const splitCases: { shape: number[]; splits: number | number[]; axis: number }[] = [
    { shape: [5, 12], splits: 3, axis: 1 },
    { shape: [2, 3, 4, 9], splits: [2, 4, 3], axis: 3 },
    { shape: [6, 4], splits: [1, 5], axis: 0 },
    { shape: [2, 7, 3], splits: [3, -1], axis: -2 },
  ];
  for (const c of splitCases) {
    it(`SplitV [${c.shape}] ${JSON.stringify(c.splits)} axis ${c.axis}, and its gradient`, async () => {
      await compareOnBackends(() => tf.split(randTensor(c.shape, 5), c.splits, c.axis), exact);
      await compareOnBackends(
        () =>
          gradsOf(
            (x) => tf.addN(tf.split(x, c.splits, c.axis).map((p, i) => weightedSum(p, 40 + i))),
            [randTensor(c.shape, 6)],
          ),
        exact,
      );
    });
  }

  const concatCases: { shapes: number[][]; axis: number }[] = [
    { shapes: [[64], [0], [3]], axis: 0 },
    {
      shapes: [
        [256, 256],
        [256, 256],
        [256, 256],
      ],
      axis: 1,
    },
    {
      shapes: [
        [5, 3],
        [5, 0],
        [5, 7],
      ],
      axis: -1,
    },
    {
      shapes: [
        [2, 3],
        [4, 3],
      ],
      axis: 0,
    },
    {
      shapes: [
        [2, 3, 4, 5],
        [2, 3, 1, 5],
        [2, 3, 6, 5],
      ],
      axis: 2,
    },
    { shapes: [[2, 3, 4]], axis: 1 },
    {
      shapes: [
        [0, 4],
        [0, 2],
      ],
      axis: 1,
    },
  ];
  for (const c of concatCases) {
    it(`Concat ${JSON.stringify(c.shapes)} axis ${c.axis}, and its gradient`, async () => {
      const parts = () => c.shapes.map((shape, i) => randTensor(shape, 50 + i));
      await compareOnBackends(() => tf.concat(parts(), c.axis), exact);
      await compareOnBackends(() => gradsOf((...xs) => weightedSum(tf.concat(xs, c.axis)), parts()), exact);
    });
  }

  for (const [i, c] of pick(transposeCases).entries()) {
    it(`Transpose [${c.shape}] perm [${c.perm}]`, async () => {
      await compareOnBackends(() => tf.transpose(randTensor(c.shape, seedOf(i)), c.perm), exact);
    });
  }

  for (const [i, c] of pick(sliceCases).entries()) {
    it(`Slice [${c.shape}] begin ${JSON.stringify(c.begin)} size ${JSON.stringify(c.size ?? null)}`, async () => {
      await compareOnBackends(() => tf.slice(randTensor(c.shape, seedOf(i)), c.begin, c.size), exact);
    });
  }

  for (const [i, c] of pick(padCases).entries()) {
    it(`PadV2 [${c.shape}] paddings ${JSON.stringify(c.paddings)} value ${c.value ?? 0}`, async () => {
      await compareOnBackends(() => tf.pad(randTensor(c.shape, seedOf(i)), c.paddings, c.value ?? 0), exact);
    });
  }

  it('gradients through tf.grads of transpose, slice and pad', async () => {
    const t = FAST ? transposeCases.filter((c) => c.fast) : transposeCases.filter((c) => c.shape.length > 1);
    for (const c of t) {
      await compareOnBackends(() => gradsOf((x) => weightedSum(tf.transpose(x, c.perm)), [randTensor(c.shape, 7)]), {
        ...exact,
        label: `transpose [${c.shape}] [${c.perm}]`,
      });
    }
    for (const c of pick(sliceCases)) {
      await compareOnBackends(
        () => gradsOf((x) => weightedSum(tf.slice(x, c.begin, c.size)), [randTensor(c.shape, 8)]),
        {
          label: `slice [${c.shape}]`,
        },
      );
    }
    for (const c of pick(padCases)) {
      await compareOnBackends(
        () => gradsOf((x) => weightedSum(tf.pad(x, c.paddings, c.value ?? 0)), [randTensor(c.shape, 9)]),
        { label: `pad [${c.shape}]` },
      );
    }
  });

  it('a chain: pad, block transpose, slice back (the attention layers pattern)', async () => {
    await compareOnBackends(() =>
      gradsOf(
        (x) => {
          const p = tf.pad(x, [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ]);
          const b = tf.transpose(tf.reshape(p, [2, 3, 4, 3, 4, 8]), [0, 1, 3, 2, 4, 5]);
          return weightedSum(tf.slice(b, [0, 0, 1, 0, 0, 0], [2, 3, 2, 4, 4, 8]));
        },
        [randTensor([2, 10, 10, 8], 11)],
      ),
    );
  });

  it('int32 and bool inputs fall back to the JS kernels', async () => {
    const ints = (shape: number[]) =>
      tf.tensor(
        Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (i * 7919) % 1000),
        shape,
        'int32',
      );
    await compareOnBackends(() => tf.transpose(ints([2, 3, 4, 3, 4, 5]), [0, 1, 3, 2, 4, 5]), exact);
    await compareOnBackends(() => tf.transpose(ints([5, 7]), [1, 0]), exact);
    await compareOnBackends(() => tf.concat([ints([2, 3]), ints([2, 4])], 1), exact);
    await compareOnBackends(() => tf.slice(ints([5, 6, 7]), [1, 2, 3], [2, 3, 4]), exact);
    await compareOnBackends(
      () =>
        tf.pad(
          ints([3, 4]),
          [
            [1, 2],
            [0, 3],
          ],
          5,
        ),
      exact,
    );
    await compareOnBackends(() => tf.cast(tf.transpose(tf.cast(ints([3, 4]), 'bool'), [1, 0]), 'int32'), exact);
  });

  it('bad attributes throw errors naming the op and the shape', async () => {
    await useBackend('native');
    const run = (kernel: string, x: tf.Tensor, attrs: tf.NamedAttrMap) =>
      tf.tidy(() => tf.engine().runKernel(kernel, { x }, attrs) as tf.Tensor);
    const naming = (fn: () => unknown, ...parts: string[]) =>
      assert.throws(fn, (err: Error) => parts.every((p) => err.message.includes(p)));
    naming(() => run('Transpose', tf.zeros([2, 3, 4]), { perm: [0, 0, 1] }), 'Transpose', '[2,3,4]');
    naming(() => run('Transpose', tf.zeros([2, 3, 4]), { perm: [1, 0] }), 'Transpose', '[2,3,4]');
    naming(
      () =>
        run('PadV2', tf.zeros([2, 3]), {
          paddings: [
            [1, -1],
            [0, 0],
          ],
          constantValue: 0,
        }),
      'PadV2',
      '[2,3]',
    );
    naming(() => run('PadV2', tf.zeros([2, 3]), { paddings: [[1, 1]], constantValue: 0 }), 'PadV2', '[2,3]');
    assert.throws(() => run('Slice', tf.zeros([2, 3]), { begin: [1, 1], size: [2, 2] }));
  });

  it('the raw addon rejects short buffers and bad geometry instead of crashing', () => {
    const addon = registerNativeBackend().load.addon;
    assert.ok(addon);
    const x = new Float32Array(6);
    const y = new Float32Array(6);
    // [2,3] transposed needs x of 6 floats: a 5-float x is refused.
    assert.throws(() => addon.stridedCopy(x.subarray(0, 5), y, Int32Array.from([2, 3, 2, 1, 3, 0])), /x has 5/);
    assert.throws(() => addon.stridedCopy(x, y.subarray(0, 5), Int32Array.from([2, 3, 2, 1, 3, 0])), /y has 5/);
    assert.throws(() => addon.stridedCopy(x, y, Int32Array.from([9])), /rank 9/);
    assert.throws(() => addon.stridedCopy(x, y, Int32Array.from([1, 6, 1, 1])), /x has 6 elements, needs 7/);
    assert.throws(() => addon.padConstant(x, y, Int32Array.from([1, 6, 1, 0]), 0), /y has 6 elements, needs 7/);
    assert.throws(() => addon.padConstant(x, y, Int32Array.from([1, 6, -1, 0]), 0), /negative/);
  });
});
