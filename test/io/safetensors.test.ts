/** safetensors: round trip, byte-level golden against Python's struct/json, the reader on that file, corrupt files. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafetensorsInput, writeSafetensors } from '../../src/io/safetensors.js';
import { setup } from '../helpers.js';

const golden = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

/** The tensors of tools/gen_safetensors_fixture.py's f32_i32.safetensors, in the same order. */
const F32_I32: SafetensorsInput[] = [
  { name: 'conv.weight', shape: [2, 3], data: new Float32Array([0.5, -1.25, 3.0, 0.1, -0, 1e-8]) },
  { name: 'step', shape: [], data: new Int32Array([42]) },
  { name: 'labels', shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
  { name: 'empty', shape: [0, 2], data: new Float32Array(0) },
];
const F32_I32_METADATA = { format: 'pt', source: 'sasa' };

/** A file from a header (object or raw text) and data bytes; `length` overrides the header length. */
function craft(header: object | string | Uint8Array, data = new Uint8Array(0), length?: bigint): Uint8Array {
  const text =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe('safetensors', () => {
  let root: string;
  before(async () => {
    await setup();
    root = await mkdtemp(join(tmpdir(), 'sasa-st-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('round-trips F32 and I32 tensors and metadata, in the order written', async () => {
    const path = join(root, 'round.safetensors');
    const tensors: SafetensorsInput[] = [
      { name: 'z', shape: [3, 1], data: new Float32Array([1, 2, 3]) },
      { name: '0', shape: [2], data: new Int32Array([5, -6]) },
      { name: 'a', shape: [1, 1, 1], data: new Float32Array([Math.PI]) },
    ];
    await writeSafetensors(path, tensors, { epoch: '7' });
    const { tensors: read, metadata } = await readSafetensors(path);
    assert.deepEqual(metadata, { epoch: '7' });
    assert.deepEqual([...read.keys()], ['z', '0', 'a']);
    for (const t of tensors) {
      const r = read.get(t.name);
      assert.ok(r);
      assert.deepEqual(r.shape, t.shape);
      assert.equal(r.dtype, t.data instanceof Float32Array ? 'F32' : 'I32');
      assert.deepEqual(r.data, t.data);
    }
    const file = await readFile(path);
    assert.equal(Number(file.readBigUInt64LE(0)) % 8, 0);
  });

  it('writes the same bytes as the Python generator', async () => {
    const path = join(root, 'golden.safetensors');
    await writeSafetensors(path, F32_I32, F32_I32_METADATA);
    assert.deepEqual(await readFile(path), await readFile(join(golden, 'f32_i32.safetensors')));
  });

  it('reads the Python fixtures: values, shapes, dtypes, metadata', async () => {
    const small = await readSafetensors(join(golden, 'f32_i32.safetensors'));
    assert.deepEqual(small.metadata, F32_I32_METADATA);
    assert.deepEqual(
      [...small.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
      F32_I32.map(({ name, shape, data }) => ({ name, shape, data })),
    );
    const all = await readSafetensors(join(golden, 'all_dtypes.safetensors'));
    assert.deepEqual(all.metadata, {});
    assert.deepEqual([...all.tensors.keys()], ['b.f64', 'a.i64', 'c.f32', 'd.i32']);
    assert.deepEqual(all.tensors.get('b.f64'), {
      dtype: 'F64',
      shape: [3],
      data: new Float64Array([0.1, -2.5, 1e300]),
    });
    assert.deepEqual(all.tensors.get('a.i64'), {
      dtype: 'I64',
      shape: [2],
      data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]),
    });
    assert.deepEqual(all.tensors.get('c.f32'), { dtype: 'F32', shape: [1, 2], data: new Float32Array([1.5, -3.75]) });
    assert.deepEqual(all.tensors.get('d.i32'), { dtype: 'I32', shape: [2], data: new Int32Array([7, -9]) });
  });

  it('replaces an existing file atomically, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(root, 'replace-'));
    const path = join(dir, 'w.safetensors');
    await writeSafetensors(path, [{ name: 'x', shape: [1], data: new Float32Array([1]) }]);
    await writeSafetensors(path, [{ name: 'y', shape: [2], data: new Int32Array([2, 3]) }]);
    assert.deepEqual(await readdir(dir), ['w.safetensors']);
    assert.deepEqual([...(await readSafetensors(path)).tensors.keys()], ['y']);
  });

  it('refuses bad tensors on write, naming the file and tensor', async () => {
    const path = join(root, 'bad-write.safetensors');
    const cases: [SafetensorsInput[], RegExp][] = [
      [[{ name: 'w', shape: [2, 2], data: new Float32Array(3) }], /tensor 'w': 3 values for shape \[2,2\]/],
      [[{ name: 'w', shape: [-1], data: new Float32Array(1) }], /tensor 'w': invalid shape/],
      [
        [
          { name: 'w', shape: [1], data: new Float32Array(1) },
          { name: 'w', shape: [1], data: new Float32Array(1) },
        ],
        /tensor 'w': duplicate name/,
      ],
      [
        [{ name: 'w', shape: [1], data: new Float64Array(1) as unknown as Float32Array }],
        /Float32Array or an Int32Array/,
      ],
    ];
    for (const [tensors, message] of cases) {
      await assert.rejects(
        writeSafetensors(path, tensors),
        (err: Error) => err.message.startsWith(path) && message.test(err.message),
      );
    }
    await assert.rejects(writeSafetensors(path, [], { n: 1 as unknown as string }), /__metadata__\.n is not a string/);
    assert.deepEqual(
      (await readdir(root)).filter((f) => f.includes('bad-write')),
      [],
    );
  });

  describe('corrupt files name the file and the fault', () => {
    const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);
    const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
      ['shorter than 8 bytes', async () => new Uint8Array(5), /5 bytes, too short/],
      [
        'a header length beyond the file',
        async () => craft('{}', new Uint8Array(0), 1000n),
        /header length 1000 bytes exceeds the 2 bytes/,
      ],
      ['a huge header length', async () => craft('{}', new Uint8Array(0), 2n ** 64n - 1n), /exceeds/],
      ['bad JSON', async () => craft('{"w": '), /header is not valid UTF-8 JSON/],
      [
        'invalid UTF-8',
        async () => craft(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
        /not valid UTF-8 JSON/,
      ],
      ['a header that is not an object', async () => craft('[1, 2]'), /header is not a JSON object/],
      [
        'an unknown dtype',
        async () => craft({ w: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)),
        /tensor 'w': unknown dtype "BF16"/,
      ],
      [
        'offsets out of range (truncated data)',
        async () => (await readFile(join(golden, 'f32_i32.safetensors'))).subarray(0, -4),
        /tensor 'labels': data_offsets \[28, 44\] exceed the 40-byte data section/,
      ],
      [
        'offsets that do not match the shape',
        async () => craft({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, f32(5)),
        /tensor 'w': data_offsets \[0, 20\] hold 20 bytes, F32 \[2,3\] needs 24/,
      ],
      [
        'reversed offsets',
        async () => craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1)),
        /tensor 'w': invalid data_offsets/,
      ],
      [
        'overlapping tensors',
        async () =>
          craft(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'I32', shape: [2], data_offsets: [4, 12] },
            },
            f32(3),
          ),
        /tensor 'b' \[4, 12\] overlaps tensor 'a' \[0, 8\]/,
      ],
      [
        'a gap between tensors',
        async () => craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)),
        /tensor 'w' starts at 4, leaving a gap/,
      ],
      [
        'trailing bytes',
        async () => craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)),
        /cover 4 of the 8 data bytes/,
      ],
      ['non-string metadata', async () => craft({ __metadata__: { n: 1 } }), /__metadata__\.n is not a string/],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, async () => {
        const path = join(root, `${what.replaceAll(' ', '_')}.safetensors`);
        await writeFile(path, await bytes());
        await assert.rejects(readSafetensors(path), (err: Error) => {
          assert.ok(err.message.startsWith(`${path}: `), err.message);
          assert.match(err.message, message);
          return true;
        });
      });
    }
  });
});
