/** IDX and CIFAR readers on tiny files written here (raw and gzipped), and every kind of bad file. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadCifar } from '../../src/data/cifar.js';
import { withClasses } from '../../src/data/dataset.js';
import { loadIdxImages, loadIdxLabels, loadIdxPair } from '../../src/data/idx.js';

/** IDX bytes: magic 0x0000 <dtype> <dims.length>, big-endian dims, then `data`. */
function idx(dims: number[], data: number[], dtype = 0x08, ndims = dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = dtype;
  out[3] = ndims;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i) & 255);

/** CIFAR records: `labels[i]` (one or two bytes) then R, G, B planes with pixel p of plane c = (i + 3p + c) mod 256. */
function cifar(labels: number[][]): Uint8Array {
  const record = labels[0].length + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((l, i) => {
    out.set(l, i * record);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) out[i * record + l.length + c * 1024 + p] = (i + 3 * p + c) & 255;
    }
  });
  return out;
}

describe('data files', () => {
  let dir: string;
  const at = (name: string) => join(dir, name);
  const rejects = (p: Promise<unknown>, ...parts: (string | RegExp)[]) =>
    assert.rejects(p, (e: Error) => {
      for (const part of parts) {
        if (typeof part === 'string') assert.ok(e.message.includes(part), `"${e.message}" lacks "${part}"`);
        else assert.match(e.message, part);
      }
      return true;
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sasa-data-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads raw and gzipped IDX image/label pairs', async () => {
    const pixels = range(3 * 2 * 4, (i) => i * 7);
    const images = idx([3, 2, 4], pixels);
    const labels = idx([3], [2, 0, 9]);
    await writeFile(at('img.idx'), images);
    await writeFile(at('lbl.idx'), labels);
    await writeFile(at('img.idx.gz'), gzipSync(images));
    await writeFile(at('lbl.idx.gz'), gzipSync(labels));
    for (const [i, l] of [
      ['img.idx', 'lbl.idx'],
      ['img.idx.gz', 'lbl.idx.gz'],
      ['img.idx.gz', 'lbl.idx'],
    ]) {
      const set = await loadIdxPair(at(i), at(l));
      assert.deepEqual(
        { ...set, images: Array.from(set.images), labels: Array.from(set.labels) },
        {
          images: pixels,
          labels: [2, 0, 9],
          count: 3,
          height: 2,
          width: 4,
          channels: 1,
        },
      );
    }
    assert.deepEqual((await loadIdxLabels(at('lbl.idx.gz'))).dims, [3]);
  });

  it('rejects bad IDX files, naming the path and the fault', async () => {
    const cases: [string, Uint8Array, (p: string) => Promise<unknown>, string[]][] = [
      ['labels-as-images', idx([3], [1, 2, 3]), loadIdxImages, ['magic 0x00000801, expected 0x00000803']],
      ['images-as-labels', idx([1, 1, 1], [1]), loadIdxLabels, ['magic 0x00000803, expected 0x00000801']],
      ['not-idx', new TextEncoder().encode('hello world!'), loadIdxImages, ['not an IDX file', 'expected 0x00000803']],
      ['float', idx([1, 1, 1], [0, 0, 0, 0], 0x0d), loadIdxImages, ['dtype byte 0x0d', 'expected 0x08']],
      ['truncated', idx([2, 3, 3], range(17)), loadIdxImages, ['truncated', 'need 18 data bytes, found 17']],
      ['short-header', idx([2, 3, 3], []).subarray(0, 10), loadIdxImages, ['truncated IDX header', 'expected 16']],
      ['trailing', idx([2], [1, 2, 3]), loadIdxLabels, ['1 bytes after the data']],
      ['tiny', new Uint8Array([0, 0]), loadIdxLabels, ['truncated IDX header: 2 bytes']],
    ];
    for (const [name, bytes, load, parts] of cases) {
      await writeFile(at(name), bytes);
      await rejects(load(at(name)), at(name), ...parts);
    }
    await writeFile(at('truncated.gz'), gzipSync(idx([2, 3, 3], range(17))));
    await rejects(loadIdxImages(at('truncated.gz')), at('truncated.gz'), 'need 18 data bytes, found 17');
    await writeFile(at('corrupt.gz'), gzipSync(idx([2], [1, 2])).subarray(0, 12));
    await rejects(loadIdxLabels(at('corrupt.gz')), at('corrupt.gz'), 'gzip');
    await rejects(loadIdxLabels(at('missing')), at('missing'), 'ENOENT');
  });

  it('names the images file when both files of a pair are missing, whichever read fails first', async () => {
    for (let i = 0; i < 20; i++) {
      await rejects(loadIdxPair(at('no-images'), at('no-labels')), at('no-images'), 'ENOENT');
    }
    await writeFile(at('img1-only'), idx([1, 1, 1], [5]));
    await rejects(loadIdxPair(at('img1-only'), at('no-labels')), at('no-labels'), 'ENOENT');
  });

  it('rejects an image/label count mismatch, naming both files', async () => {
    await writeFile(at('img2'), idx([2, 1, 1], [5, 6]));
    await writeFile(at('lbl3'), idx([3], [0, 1, 2]));
    await rejects(loadIdxPair(at('img2'), at('lbl3')), at('img2'), at('lbl3'), '2 images', '3 labels');
  });

  it('withClasses rejects labels out of range', async () => {
    await writeFile(at('img1'), idx([2, 1, 1], [5, 6]));
    await writeFile(at('lbl1'), idx([2], [0, 10]));
    const set = await loadIdxPair(at('img1'), at('lbl1'));
    assert.throws(
      () => withClasses(set, 10, at('lbl1')),
      (e: Error) => {
        assert.ok(e.message.includes(at('lbl1')) && e.message.includes('label 10 of image 1 is out of range 0..9'));
        return true;
      },
    );
    assert.equal(withClasses(set, 11).classes, 11);
  });

  it('reads CIFAR-10 files as HWC and concatenates several', async () => {
    await writeFile(at('c10a.bin'), cifar([[3], [9]]));
    await writeFile(at('c10b.bin.gz'), gzipSync(cifar([[0]])));
    const one = await loadCifar(at('c10a.bin'));
    assert.deepEqual([one.count, one.height, one.width, one.channels, one.classes], [2, 32, 32, 3, 10]);
    assert.deepEqual(Array.from(one.labels), [3, 9]);
    // image 1, pixel p = 5 (row 0, column 5): R, G, B = 1 + 15 + c.
    assert.deepEqual(Array.from(one.images.subarray(3072 + 15, 3072 + 18)), [16, 17, 18]);
    // image 0, pixel (row 2, column 1) = p 65: 195, 196, 197.
    assert.deepEqual(Array.from(one.images.subarray(65 * 3, 65 * 3 + 3)), [195, 196, 197]);
    const both = await loadCifar([at('c10a.bin'), at('c10b.bin.gz')]);
    assert.equal(both.count, 3);
    assert.deepEqual(Array.from(both.labels), [3, 9, 0]);
    assert.deepEqual(both.images.subarray(0, 6144), one.images);
    assert.deepEqual(Array.from(both.images.subarray(6144, 6147)), [0, 1, 2]);
  });

  it('reads CIFAR-100 fine or coarse labels', async () => {
    await writeFile(
      at('c100.bin'),
      cifar([
        [19, 99],
        [4, 0],
      ]),
    );
    const fine = await loadCifar(at('c100.bin'), { variant: 'cifar100' });
    const coarse = await loadCifar(at('c100.bin'), { variant: 'cifar100', label: 'coarse' });
    assert.deepEqual([Array.from(fine.labels), fine.classes], [[99, 0], 100]);
    assert.deepEqual([Array.from(coarse.labels), coarse.classes], [[19, 4], 20]);
    assert.deepEqual(fine.images, coarse.images);
  });

  it('rejects bad CIFAR files, naming the path and the fault', async () => {
    await writeFile(at('c10-long'), new Uint8Array(3073 * 2 + 5));
    await rejects(loadCifar(at('c10-long')), at('c10-long'), 'records of 3073 bytes', 'remainder 5');
    await rejects(loadCifar(at('c10-long'), { variant: 'cifar100' }), 'records of 3074 bytes', 'remainder 3');
    await writeFile(at('empty'), new Uint8Array(0));
    await rejects(loadCifar(at('empty')), at('empty'), 'remainder 0');
    await writeFile(at('c10-label'), cifar([[1], [10]]));
    await rejects(loadCifar(at('c10-label')), at('c10-label'), 'record 1 has label 10, expected 0..9');
    await writeFile(at('c100-coarse'), cifar([[20, 5]]));
    await rejects(
      loadCifar(at('c100-coarse'), { variant: 'cifar100' }),
      'record 0 has coarse label 20, expected 0..19',
    );
    await writeFile(at('c100-fine'), cifar([[2, 100]]));
    await rejects(
      loadCifar(at('c100-fine'), { variant: 'cifar100', label: 'coarse' }),
      at('c100-fine'),
      'fine label 100, expected 0..99',
    );
  });
});
