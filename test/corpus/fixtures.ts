/**
 * The bad-input corpus's files, written at test time into a fresh folder (nothing binary is committed):
 * tiny good data of every format the CLI reads, then each malformed variant next to it. `writeFixtures`
 * returns the paths the case table (cases.ts) refers to. The trained classifier (`run/`) is the one
 * costly part: one `sasa train` of 3 steps on 8×8 IDX images, through `sasa` (a CLI worker).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { initBackend } from '../../src/backend/native.js';
import { categoryMap } from '../../src/data/detection/annotations.js';
import { writeShapesDataset } from '../../src/data/detection/shapes/write.js';
import { createDetector, detectorConfig } from '../../src/models/detection/registry.js';
import { detectorMetadata, saveDetector } from '../../src/tasks/detection/saved_detector.js';
import { writeImageFolder } from '../data/folder_fixture.js';
import { writeIdxPair } from '../data/idx_fixture.js';
import type { Sasa } from './cli_worker.js';

/** The model flags of every classifier the corpus trains: 0.13 M parameters. */
export const TINY_MODEL = ['--model', 'resnet26', '--width-multiplier', '0.125', '--blocks', '1,1,1,1'];

/** Every path a case names, by role. */
export type Fixtures = Record<string, string>;

const write = (path: string, bytes: Uint8Array | string) => {
  writeFileSync(path, bytes);
  return path;
};

/** IDX files: a good 8×8 pair (train 32, test 8, 2 classes) and the malformed variants. */
function idxFixtures(dir: string): Fixtures {
  mkdirSync(dir);
  const [trainImages, trainLabels] = writeIdxPair(dir, 'train', { count: 32, side: 8, classes: 2, seed: 1 });
  const [testImages, testLabels] = writeIdxPair(dir, 'test', { count: 8, side: 8, classes: 2, seed: 2 });
  const [largerImages, largerLabels] = writeIdxPair(dir, 'larger', { count: 8, side: 10, classes: 2, seed: 3 });
  const [threeImages, threeLabels] = writeIdxPair(dir, 'three', { count: 9, side: 8, classes: 3, seed: 4 });
  const images = readFileSync(trainImages);
  const labels = readFileSync(trainLabels);
  const withByte = (b: Buffer, at: number, value: number) => {
    const c = Buffer.from(b);
    c[at] = value;
    return c;
  };
  const zero = Buffer.alloc(16);
  zero.writeUInt32BE(0x803, 0);
  zero.writeUInt32BE(8, 8);
  zero.writeUInt32BE(8, 12);
  const zeroLabels = Buffer.alloc(8);
  zeroLabels.writeUInt32BE(0x801, 0);
  const oneClassLabels = Buffer.from(labels);
  oneClassLabels.fill(0, 8);
  const gz = gzipSync(images);
  return {
    trainImages,
    trainLabels,
    testImages,
    testLabels,
    largerImages,
    largerLabels,
    threeImages,
    threeLabels,
    missing: join(dir, 'no-such-file'),
    empty: write(join(dir, 'empty'), ''),
    badMagic: write(join(dir, 'bad-magic'), Buffer.concat([Buffer.from('PK\x03\x04'), images.subarray(4)])),
    floatDtype: write(join(dir, 'float-dtype'), withByte(images, 2, 0x0d)),
    truncated: write(join(dir, 'truncated'), images.subarray(0, images.length - 10)),
    trailing: write(join(dir, 'trailing'), Buffer.concat([images, Buffer.alloc(5)])),
    shortHeader: write(join(dir, 'short-header'), images.subarray(0, 10)),
    fewerLabels: write(
      join(dir, 'fewer-labels'),
      (() => {
        const b = Buffer.from(labels.subarray(0, labels.length - 1));
        b.writeUInt32BE(31, 4);
        return b;
      })(),
    ),
    zeroImages: write(join(dir, 'zero-images'), zero),
    zeroLabels: write(join(dir, 'zero-labels'), zeroLabels),
    oneClassLabels: write(join(dir, 'one-class-labels'), oneClassLabels),
    gzCorrupt: write(join(dir, 'corrupt.gz'), Buffer.concat([gz.subarray(0, 10), Buffer.alloc(200, 0x55)])),
    gzTruncated: write(join(dir, 'truncated.gz'), gz.subarray(0, gz.length >> 1)),
    aFolder: (() => {
      mkdirSync(join(dir, 'a-folder'));
      return join(dir, 'a-folder');
    })(),
    dangling: link(join(dir, 'gone'), join(dir, 'dangling')),
    loop: loopLink(join(dir, 'loop')),
  };
}

/** A symbolic link at `path` to `target`; returns `path`. */
function link(target: string, path: string): string {
  symlinkSync(target, path);
  return path;
}

/** Two links that point at each other; returns the first. */
function loopLink(path: string): string {
  symlinkSync(`${path}-b`, path);
  symlinkSync(path, `${path}-b`);
  return path;
}

/** Fashion-MNIST folders (the four gzipped IDX files): one with a file missing, one with a label past 9. */
function fashionFixtures(dir: string, idx: Fixtures): Fixtures {
  const names = [
    'train-images-idx3-ubyte',
    'train-labels-idx1-ubyte',
    't10k-images-idx3-ubyte',
    't10k-labels-idx1-ubyte',
  ];
  const sources = [idx.trainImages, idx.trainLabels, idx.testImages, idx.testLabels];
  const folder = (name: string, edit: (files: Buffer[]) => void, skip = -1) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const files = sources.map((s) => readFileSync(s));
    edit(files);
    files.forEach((b, i) => {
      if (i !== skip) writeFileSync(join(d, `${names[i]}.gz`), gzipSync(b));
    });
    return d;
  };
  return {
    fashionMissing: folder('missing-test-labels', () => {}, 3),
    fashionMissingFile: join(dir, 'missing-test-labels', 't10k-labels-idx1-ubyte.gz'),
    fashionLabel12: folder('label-12', (files) => {
      files[1][8 + 5] = 12;
    }),
    fashionTruncatedGz: (() => {
      const d = folder('truncated-gz', () => {});
      const p = join(d, 'train-images-idx3-ubyte.gz');
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, b.length - 20));
      return d;
    })(),
  };
}

/** CIFAR binaries: good cifar10 and cifar100 folders of 2 records per file, and broken copies. */
function cifarFixtures(dir: string): Fixtures {
  const record = (labels: number[], fill: number) => Buffer.concat([Buffer.from(labels), Buffer.alloc(3072, fill)]);
  const file = (labels: number[][]) => Buffer.concat(labels.map((l, i) => record(l, 40 * i)));
  const cifar10 = (name: string, edit: (files: Record<string, Buffer>) => void) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const files: Record<string, Buffer> = { 'test_batch.bin': file([[0], [1]]) };
    for (let i = 1; i <= 5; i++) files[`data_batch_${i}.bin`] = file([[i % 2], [(i + 1) % 2]]);
    edit(files);
    for (const [n, b] of Object.entries(files)) writeFileSync(join(d, n), b);
    return d;
  };
  const cifar100 = (name: string, edit: (files: Record<string, Buffer>) => void) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const files: Record<string, Buffer> = {
      'train.bin': file([
        [0, 1],
        [1, 2],
      ]),
      'test.bin': file([
        [0, 1],
        [1, 2],
      ]),
    };
    edit(files);
    for (const [n, b] of Object.entries(files)) writeFileSync(join(d, n), b);
    return d;
  };
  return {
    cifar10MissingBatch: cifar10('c10-missing', (f) => {
      delete f['data_batch_3.bin'];
    }),
    cifar10Ragged: cifar10('c10-ragged', (f) => {
      f['data_batch_2.bin'] = f['data_batch_2.bin'].subarray(0, 5000);
    }),
    cifar10Label10: cifar10('c10-label', (f) => {
      f['test_batch.bin'][3073] = 10;
    }),
    cifar10Empty: cifar10('c10-empty', (f) => {
      f['data_batch_1.bin'] = Buffer.alloc(0);
    }),
    cifar100FineLabel: cifar100('c100-fine', (f) => {
      f['train.bin'][1] = 100;
    }),
    cifar100CoarseLabel: cifar100('c100-coarse', (f) => {
      f['train.bin'][3074] = 20;
    }),
    cifar100NoTest: cifar100('c100-no-test', (f) => {
      delete f['test.bin'];
    }),
    cifar100GivenAs10: cifar100('c100-as-10', () => {}),
  };
}

/** A 16×16 PNG of grey level `v`. */
const png = (v: number) => sharp(Buffer.alloc(16 * 16 * 3, v), { raw: { width: 16, height: 16, channels: 3 } }).png();

/** Bad image files: a PNG with a bad CRC, a truncated JPEG, a GIF named .png, an empty file, a text file. */
async function badImages(dir: string): Promise<Fixtures> {
  mkdirSync(dir, { recursive: true });
  const good = join(dir, 'good.png');
  await png(150).toFile(good);
  const crc = Buffer.from(readFileSync(good));
  crc[29] ^= 0xff;
  const jpeg = await sharp(Buffer.alloc(64 * 64 * 3, 90), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toBuffer();
  const gif = await png(150).gif().toBuffer();
  return {
    good,
    crc: write(join(dir, 'crc.png'), crc),
    cut: write(join(dir, 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6))),
    gif: write(join(dir, 'gif.png'), gif),
    zero: write(join(dir, 'zero.png'), ''),
    text: write(join(dir, 'text.jpg'), 'not an image'),
    missing: join(dir, 'no-such.png'),
    dangling: link(join(dir, 'gone.png'), join(dir, 'dangling.png')),
  };
}

/** Image folders of 16×16 images (3 classes, 2 each), each broken one way. */
async function folderFixtures(dir: string, bad: Fixtures): Promise<Fixtures> {
  const good = join(dir, 'good');
  await writeImageFolder(good, { perClass: 2, side: 16 });
  const copy = (name: string) => {
    cpSync(good, join(dir, name), { recursive: true });
    return join(dir, name);
  };
  const withFile = (name: string, file: string, as: string) => {
    const d = copy(name);
    cpSync(file, join(d, 'green', as));
    return d;
  };
  const oneClass = join(dir, 'one-class');
  cpSync(join(good, 'red'), join(oneClass, 'red'), { recursive: true });
  const emptyClasses = join(dir, 'empty-classes');
  for (const c of ['a', 'b']) mkdirSync(join(emptyClasses, c), { recursive: true });
  const allBad = join(dir, 'all-bad');
  for (const c of ['a', 'b']) {
    mkdirSync(join(allBad, c), { recursive: true });
    writeFileSync(join(allBad, c, '0.png'), 'not an image');
  }
  const splits = join(dir, 'splits');
  cpSync(good, join(splits, 'train'), { recursive: true });
  cpSync(join(good, 'red'), join(splits, 'test', 'red'), { recursive: true });
  cpSync(join(good, 'blue'), join(splits, 'test', 'cyan'), { recursive: true });
  const looped = copy('looped');
  const danglingClass = copy('dangling-image');
  return {
    folderGood: good,
    folderMissing: join(dir, 'no-such-folder'),
    folderEmpty: (() => {
      mkdirSync(join(dir, 'empty'));
      return join(dir, 'empty');
    })(),
    folderOneClass: oneClass,
    folderEmptyClasses: emptyClasses,
    folderAllBad: allBad,
    folderSplits: splits,
    folderCrc: withFile('crc', bad.crc, 'crc.png'),
    folderCut: withFile('cut', bad.cut, 'cut.jpg'),
    folderGif: withFile('gif', bad.gif, 'gif.png'),
    folderZero: withFile('zero', bad.zero, 'zero.png'),
    folderDangling: danglingClass,
    folderDanglingImage: link(join(danglingClass, 'green', 'gone.png'), join(danglingClass, 'green', 'dangling.png')),
    folderLooped: looped,
    folderLoopLink: link(looped, join(looped, 'red', 'loop')),
    folderIsFile: write(join(dir, 'a-file'), 'not a folder'),
  };
}

/** COCO ground truth and detection files: a good pair (2 images, 2 categories) and broken copies. */
function cocoFixtures(dir: string): Fixtures {
  mkdirSync(dir);
  const gt = {
    images: [
      { id: 1, width: 64, height: 64, file_name: 'a.png' },
      { id: 2, width: 64, height: 64, file_name: 'b.png' },
    ],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [4, 4, 20, 20], area: 400, iscrowd: 0 },
      { id: 2, image_id: 2, category_id: 2, bbox: [10, 10, 30, 20], area: 600, iscrowd: 0 },
    ],
    categories: [
      { id: 1, name: 'circle' },
      { id: 2, name: 'square' },
    ],
  };
  const dt = [
    { image_id: 1, category_id: 1, bbox: [5, 5, 20, 20], score: 0.9 },
    { image_id: 2, category_id: 2, bbox: [10, 10, 30, 20], score: 0.8 },
  ];
  const json = (name: string, value: unknown) => write(join(dir, name), JSON.stringify(value, null, 1));
  const edited = (name: string, edit: (g: typeof gt) => void) => {
    const g = structuredClone(gt);
    edit(g);
    return json(name, g);
  };
  const detections = (name: string, edit: (d: Record<string, unknown>[]) => void) => {
    const d = structuredClone(dt) as Record<string, unknown>[];
    edit(d);
    return json(name, d);
  };
  const noCategoryGt = edited('gt-no-annotations.json', (g) => {
    g.annotations = [];
  });
  return {
    gt: json('gt.json', gt),
    dt: json('dt.json', dt),
    gtMissing: join(dir, 'no-such.json'),
    gtNotJson: write(join(dir, 'gt-not-json.json'), '{"images": [\n  {"id": 1,, "width": 64}\n]}'),
    gtTruncated: write(join(dir, 'gt-truncated.json'), JSON.stringify(gt).slice(0, 120)),
    gtEmpty: write(join(dir, 'gt-empty.json'), ''),
    gtNoImages: edited('gt-no-images.json', (g) => {
      delete (g as Partial<typeof gt>).images;
    }),
    gtNegativeWidth: edited('gt-negative-width.json', (g) => {
      g.annotations[1].bbox = [10, 10, -30, 20];
    }),
    gtDuplicateImage: edited('gt-duplicate-image.json', (g) => {
      g.images[1].id = 1;
    }),
    gtUnknownCategory: edited('gt-unknown-category.json', (g) => {
      g.annotations[0].category_id = 7;
    }),
    gtUnknownImage: edited('gt-unknown-image.json', (g) => {
      g.annotations[0].image_id = 9;
    }),
    gtStringBbox: edited('gt-string-bbox.json', (g) => {
      (g.annotations[0] as unknown as { bbox: string }).bbox = '4,4,20,20';
    }),
    gtNoAnnotations: noCategoryGt,
    dtThreeNumbers: detections('dt-three-numbers.json', (d) => {
      d[0].bbox = [1, 2, 3];
    }),
    dtUnknownImage: detections('dt-unknown-image.json', (d) => {
      d[1].image_id = 42;
    }),
    dtUnknownCategory: detections('dt-unknown-category.json', (d) => {
      d[1].category_id = 9;
    }),
    dtNegativeScore: detections('dt-negative-score.json', (d) => {
      d[0].score = -1;
    }),
    dtNullScore: detections('dt-null-score.json', (d) => {
      d[0].score = null;
    }),
    dtNotList: json('dt-not-list.json', { detections: dt }),
  };
}

/** Detection sources: a tiny shapes output, COCO files pointing at its images, broken variants. */
async function detectionFixtures(dir: string): Promise<Fixtures> {
  const shapes = join(dir, 'shapes');
  const summary = await writeShapesDataset(shapes, { train: 2, val: 2, size: 128, seed: 1 });
  const images = join(shapes, 'images');
  const train = join(shapes, 'instances_train.json');
  const instances = JSON.parse(readFileSync(train, 'utf8'));
  const json = (name: string, value: unknown) => write(join(dir, name), JSON.stringify(value));
  const badBox = structuredClone(instances);
  badBox.annotations[0].bbox[2] = -5;
  const missingImage = structuredClone(instances);
  missingImage.images[0].file_name = 'train/no-such.png';
  const incomplete = join(dir, 'incomplete-shapes');
  cpSync(shapes, incomplete, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(incomplete, 'shapes.json'), 'utf8'));
  writeFileSync(join(incomplete, 'shapes.json'), JSON.stringify({ ...manifest, complete: false }));
  const voc = join(dir, 'voc-no-instances');
  mkdirSync(join(voc, 'images'), { recursive: true });
  const detector = join(dir, 'detector');
  const categories = categoryMap(summary.train.categories);
  const config = { classes: categories.ids.length };
  await initBackend();
  const model = createDetector('retinanet_demo', config);
  await saveDetector(detector, model, detectorMetadata(detectorConfig('retinanet_demo', config), categories, 128));
  model.dispose();
  return {
    shapes,
    shapesImages: images,
    shapesTrain: train,
    shapesGood: join(images, 'val', '000000.png'),
    detector,
    cocoBadBox: json('bad-box.json', badBox),
    cocoMissingImage: json('missing-image.json', missingImage),
    shapesIncomplete: incomplete,
    vocNoInstances: voc,
    detectorMissing: join(dir, 'no-such-detector'),
  };
}

/** A copy of `model` (a model folder) with `edit` applied to its parsed model.json and its weights. */
function editedModel(
  model: string,
  path: string,
  edit: { json?: (j: Record<string, unknown>) => void; weights?: (w: Buffer) => Buffer; remove?: string },
): string {
  cpSync(model, path, { recursive: true });
  if (edit.json) {
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    edit.json(json);
    writeFileSync(join(path, 'model.json'), JSON.stringify(json));
  }
  if (edit.weights) writeFileSync(join(path, 'weights.bin'), edit.weights(readFileSync(join(path, 'weights.bin'))));
  if (edit.remove) rmSync(join(path, edit.remove), { recursive: true });
  return path;
}

/** Model folders broken one way each, from the trained `model`. */
function modelFixtures(dir: string, model: string): Fixtures {
  mkdirSync(dir);
  const at = (name: string) => join(dir, name);
  const layers = (j: Record<string, unknown>) =>
    (j.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers;
  const firstWeight = (j: Record<string, unknown>) =>
    (j.weightsManifest as { weights: { shape: number[]; name: string }[] }[])[0].weights[0];
  return {
    model,
    modelMissing: at('no-such-model'),
    modelNoJson: editedModel(model, at('no-json'), { remove: 'model.json' }),
    modelNoWeights: editedModel(model, at('no-weights'), { remove: 'weights.bin' }),
    modelJsonTruncated: (() => {
      const d = editedModel(model, at('json-truncated'), {});
      const text = readFileSync(join(d, 'model.json'), 'utf8');
      writeFileSync(join(d, 'model.json'), text.slice(0, text.length >> 1));
      return d;
    })(),
    modelUnknownLayer: editedModel(model, at('unknown-layer'), {
      json: (j) => {
        const ls = layers(j);
        ls[ls.length - 1].class_name = 'FancyAttention3000';
      },
    }),
    modelThreeClasses: editedModel(model, at('three-classes'), {
      json: (j) => {
        (j.userDefinedMetadata as { classNames: string[] }).classNames = ['a', 'b', 'c'];
      },
    }),
    modelNoMetadata: editedModel(model, at('no-metadata'), {
      json: (j) => {
        delete j.userDefinedMetadata;
      },
    }),
    modelNaN: editedModel(model, at('nan'), { weights: (w) => Buffer.alloc(w.length, 0xff) }),
    modelShape: editedModel(model, at('shape'), {
      json: (j) => {
        const w = firstWeight(j);
        w.shape = [...w.shape].reverse();
      },
    }),
    modelShortWeights: editedModel(model, at('short-weights'), { weights: (w) => w.subarray(0, w.length - 100) }),
    modelLongWeights: editedModel(model, at('long-weights'), { weights: (w) => Buffer.concat([w, Buffer.alloc(64)]) }),
    modelJsonIsFolder: (() => {
      const d = editedModel(model, at('json-is-folder'), { remove: 'model.json' });
      mkdirSync(join(d, 'model.json'));
      return d;
    })(),
    modelDirIsFile: write(at('a-file'), 'not a model'),
    modelLoop: loopLink(at('loop')),
  };
}

/** The 8-byte length, the JSON header and the data of a safetensors file. */
function splitSafetensors(bytes: Buffer): { header: Record<string, unknown>; data: Buffer } {
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

function joinSafetensors(header: Record<string, unknown>, data: Buffer): Buffer {
  const text = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([length, text, data]);
}

/** Copies of the finished run folder `run`, each with its checkpoint broken one way (and no summary, so resumable). */
function checkpointFixtures(dir: string, run: string): Fixtures {
  mkdirSync(dir);
  const copy = (name: string, bytes?: Buffer) => {
    const d = join(dir, name);
    cpSync(run, d, { recursive: true });
    if (bytes) writeFileSync(join(d, 'checkpoint.safetensors'), bytes);
    return d;
  };
  const { header, data } = splitSafetensors(readFileSync(join(run, 'checkpoint.safetensors')));
  // the epoch's loss sum, whose last digits vary from run to run, fixed: the sizes the messages name stay put
  const fixed = structuredClone(header) as { __metadata__: { sasa: string } };
  fixed.__metadata__.sasa = JSON.stringify({ ...JSON.parse(fixed.__metadata__.sasa), lossSum: 1 });
  const checkpoint = joinSafetensors(fixed, data);
  const otherModel = structuredClone(fixed) as { __metadata__: { sasa: string } };
  const state = JSON.parse(otherModel.__metadata__.sasa);
  state.run.options.model.widthMultiplier = 0.25;
  otherModel.__metadata__.sasa = JSON.stringify(state);
  const noState = structuredClone(fixed) as { __metadata__?: unknown };
  delete noState.__metadata__;
  const hugeHeader = Buffer.from(checkpoint);
  hugeHeader.writeBigUInt64LE(1n << 40n, 0);
  const empty = join(dir, 'empty-out');
  mkdirSync(empty);
  const folderCheckpoint = copy('checkpoint-is-folder');
  rmSync(join(folderCheckpoint, 'checkpoint.safetensors'));
  mkdirSync(join(folderCheckpoint, 'checkpoint.safetensors'));
  return {
    run,
    runCopy: copy('run-copy'),
    ckTruncated: copy('truncated', checkpoint.subarray(0, checkpoint.length >> 1)),
    ckEmpty: copy('empty', Buffer.alloc(0)),
    ckHugeHeader: copy('huge-header', hugeHeader),
    ckHeaderNotJson: copy('header-not-json', Buffer.concat([checkpoint.subarray(0, 8), Buffer.alloc(200, 0x7b)])),
    ckNoState: copy('no-state', joinSafetensors(noState, data)),
    ckOtherModel: copy('other-model', joinSafetensors(otherModel, data)),
    ckFolder: folderCheckpoint,
    emptyOut: empty,
    missingOut: join(dir, 'no-such-run'),
  };
}

/** Trains the corpus's one classifier into `out` (3 steps on the good IDX pair), quietly. */
async function trainTinyRun(sasa: Sasa, out: string, idx: Fixtures): Promise<void> {
  const data = `idx:${idx.trainImages},${idx.trainLabels},${idx.testImages},${idx.testLabels}`;
  const args = ['train', '--data', data, ...TINY_MODEL, '--epochs', '1', '--batch-size', '8', '--out', out];
  const r = await sasa(args);
  if (r.code !== 0) throw new Error(`the corpus's training run failed:\n${r.stderr}`);
}

/**
 * Writes the whole corpus into `root` (an empty folder) and returns its paths. The mounts (a full and
 * a read-only file system) are made by mounts.ts, not here.
 */
export async function writeFixtures(root: string, sasa: Sasa): Promise<Fixtures> {
  const idx = idxFixtures(join(root, 'idx'));
  const bad = await badImages(join(root, 'images'));
  const run = join(root, 'run');
  await trainTinyRun(sasa, run, idx);
  const ckpt = checkpointFixtures(join(root, 'checkpoints'), run);
  rmSync(join(ckpt.runCopy, 'summary.json'));
  return {
    root,
    ...idx,
    ...Object.fromEntries(Object.entries(bad).map(([k, v]) => [`image${k[0].toUpperCase()}${k.slice(1)}`, v])),
    ...fashionFixtures(join(root, 'fashion'), idx),
    ...cifarFixtures(join(root, 'cifar')),
    ...(await folderFixtures(join(root, 'folders'), bad)),
    ...cocoFixtures(join(root, 'coco')),
    ...(await detectionFixtures(join(root, 'detection'))),
    ...modelFixtures(join(root, 'models'), join(run, 'model')),
    ...ckpt,
    aFile: write(join(root, 'a-file'), 'a file, not a folder'),
    outDangling: link(join(root, 'gone'), join(root, 'out-dangling')),
    outLoop: loopLink(join(root, 'out-loop')),
    scratch: join(root, 'scratch'),
  };
}
