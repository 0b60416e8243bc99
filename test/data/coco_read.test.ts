/** Reading COCO files: what is accepted, and that each kind of bad input names the file, the entry and the field. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CocoInstances } from '../../src/data/coco/instances.js';
import { firstSyntaxError, parseJsonText } from '../../src/data/coco/json.js';
import {
  parseCocoDetections,
  parseCocoInstances,
  readCocoDetections,
  readCocoInstances,
} from '../../src/data/coco/read.js';

const BIG_ID = 20180000001;

function instances(): CocoInstances & Record<string, unknown> {
  return {
    info: { year: 2026 },
    images: [
      { id: BIG_ID, width: 100, height: 80, file_name: 'a.jpg', license: 1 } as CocoInstances['images'][0],
      { id: 7, width: 50, height: 50, file_name: 'b.jpg' },
    ],
    categories: [
      { id: 1, name: 'cat', supercategory: 'animal' },
      { id: 3, name: 'dog' },
    ],
    annotations: [
      { id: 1, image_id: BIG_ID, category_id: 1, bbox: [0, 0, 100.4, 80], area: 5000, iscrowd: 0 },
      { id: 2, image_id: 7, category_id: 3, bbox: [5, 5, 10, 10], area: 90, iscrowd: 1 },
    ],
  };
}

/** The error message of parsing `gt` (modified by `edit`) as ground truth. */
function gtError(edit: (gt: Record<string, unknown[]>) => void): string {
  const gt = instances() as unknown as Record<string, unknown[]>;
  edit(gt);
  try {
    parseCocoInstances(JSON.stringify(gt), 'gt.json');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the ground truth to be rejected');
}

function dtError(detections: unknown): string {
  try {
    parseCocoDetections(JSON.stringify(detections), 'dt.json', instances());
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the detections to be rejected');
}

const det = { image_id: 7, category_id: 3, bbox: [1, 2, 3, 4], score: 0.5 };

describe('readCocoInstances', () => {
  it('accepts ids above 2^31, extra fields, boxes up to 1 px beyond the image, an image without boxes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coco-'));
    const path = join(dir, 'gt.json');
    writeFileSync(path, JSON.stringify(instances()));
    const gt = await readCocoInstances(path);
    assert.equal(gt.images[0].id, BIG_ID);
    assert.equal((gt.images[0] as unknown as { license: number }).license, 1);
    assert.equal(gt.annotations.length, 2);
  });

  it('reads the COCO fixture (real val2014 annotations)', async () => {
    const fixture = await readCocoInstances('test/golden/coco_eval/fixture/gt.json');
    assert.equal(fixture.images.length, 100);
    assert.equal(fixture.annotations.length, 830);
  });

  it('names the file, entry and field of each bad ground truth', () => {
    const cases: [(gt: Record<string, unknown[]>) => void, RegExp][] = [
      [
        (gt) => delete (gt.annotations[1] as Record<string, unknown>).area,
        /gt\.json: annotations\[1\] \(id 2\): 'area' is missing/,
      ],
      [
        (gt) => ((gt.annotations[0] as Record<string, unknown>).bbox = [0, 0, -1, 5]),
        /annotations\[0\] \(id 1\): 'bbox' width must be > 0/,
      ],
      [
        (gt) => ((gt.annotations[0] as Record<string, unknown>).bbox = [0, 0, 1, null]),
        /'bbox' height must be a finite number/,
      ],
      [
        (gt) => ((gt.annotations[0] as Record<string, unknown>).bbox = [0, 0, 101.5, 80]),
        /'bbox' \[0,0,101.5,80\] reaches beyond image 20180000001 \(100×80\) by more than 1 px/,
      ],
      [
        (gt) => ((gt.annotations[1] as Record<string, unknown>).id = 1),
        /annotations\[1\]: duplicate annotation id 1 \(also annotations\[0\]\)/,
      ],
      [
        (gt) => ((gt.annotations[1] as Record<string, unknown>).image_id = 8),
        /annotations\[1\] \(id 2\): 'image_id' 8 names no image of this file/,
      ],
      [
        (gt) => ((gt.annotations[1] as Record<string, unknown>).category_id = 2),
        /'category_id' 2 names no category of this file/,
      ],
      [(gt) => ((gt.annotations[1] as Record<string, unknown>).iscrowd = 2), /'iscrowd' must be 0 or 1, got 2/],
      [
        (gt) => ((gt.images[1] as Record<string, unknown>).id = BIG_ID),
        /images\[1\]: duplicate image id 20180000001 \(also images\[0\]\)/,
      ],
      [
        (gt) => ((gt.images[1] as Record<string, unknown>).width = 0),
        /images\[1\] \(id 7\): 'width' must be a finite number > 0, got 0/,
      ],
      [
        (gt) => ((gt.images[0] as Record<string, unknown>).id = '5'),
        /images\[0\]: 'id' must be an integer id, got "5"/,
      ],
      [
        (gt) => ((gt.categories[1] as Record<string, unknown>).name = undefined),
        /categories\[1\] \(id 3\): 'name' must be a string, got nothing/,
      ],
      [(gt) => delete (gt as Record<string, unknown>).annotations, /gt\.json: 'annotations' must be an array/],
    ];
    for (const [edit, message] of cases) assert.match(gtError(edit), message);
  });

  it('locates malformed JSON by line and column', () => {
    assert.throws(
      () => parseJsonText('{\n  "images": [1, 2,,]\n}', 'gt.json'),
      /^Error: gt\.json: invalid JSON at line 2, column 19: Unexpected token .,.$/,
    );
    assert.throws(() => parseJsonText('[1, 2', 'x.json'), /x\.json: invalid JSON at line 1, column 6/);
    const valid = '{"a": [1, 2.5e3, true, null, "\\u00e9"]}';
    assert.equal(firstSyntaxError(valid), valid.length);
    assert.equal(firstSyntaxError('{"a": 01}'), 7);
  });
});

describe("readCocoInstances with badAnnotations: 'collect'", () => {
  /** `instances()` plus one annotation per kind of bad annotation (ids 10.., on image 7: 50×50). */
  function withBadAnnotations(): Record<string, unknown[]> {
    const gt = instances() as unknown as Record<string, unknown[]>;
    const good = { image_id: 7, category_id: 3, bbox: [5, 5, 10, 10], area: 100, iscrowd: 0 };
    const bad: Record<string, unknown>[] = [
      { image_id: 8 },
      { category_id: 2 },
      { bbox: [1, 2, 3] },
      { bbox: [1, 2, Number.POSITIVE_INFINITY, 3] },
      { bbox: [1, 2, 0, 3] },
      { bbox: [45, 0, 7, 10] },
      { bbox: [-0.5, 0, 0.4, 10] },
      { area: undefined },
      { area: -1 },
      { iscrowd: true },
    ];
    gt.annotations.push(...bad.map((edit, k) => ({ ...good, id: 10 + k, ...edit })));
    gt.annotations.push({ ...good, id: 30 });
    return gt;
  }

  it('collects each bad annotation with its id, image, index, field and reason; keeps the rest', () => {
    const { instances: read, badAnnotations } = parseCocoInstances(JSON.stringify(withBadAnnotations()), 'gt.json', {
      badAnnotations: 'collect',
    });
    assert.deepEqual(badAnnotations, [
      { annotationId: 10, imageId: 8, index: 2, field: 'image_id', reason: "'image_id' 8 names no image of this file" },
      {
        annotationId: 11,
        imageId: 7,
        index: 3,
        field: 'category_id',
        reason: "'category_id' 2 names no category of this file",
      },
      {
        annotationId: 12,
        imageId: 7,
        index: 4,
        field: 'bbox',
        reason: "'bbox' must be [x, y, width, height], got [1,2,3]",
      },
      {
        annotationId: 13,
        imageId: 7,
        index: 5,
        field: 'bbox',
        reason: "'bbox' width must be a finite number, got null",
      },
      { annotationId: 14, imageId: 7, index: 6, field: 'bbox', reason: "'bbox' width must be > 0, got 0" },
      {
        annotationId: 15,
        imageId: 7,
        index: 7,
        field: 'bbox',
        reason: "'bbox' [45,0,7,10] reaches beyond image 7 (50×50) by more than 1 px",
      },
      {
        annotationId: 16,
        imageId: 7,
        index: 8,
        field: 'bbox',
        reason: "'bbox' [-0.5,0,0.4,10] lies entirely outside image 7 (50×50)",
      },
      {
        annotationId: 17,
        imageId: 7,
        index: 9,
        field: 'area',
        reason: "'area' is missing (the evaluation's small/medium/large ranges read it)",
      },
      { annotationId: 18, imageId: 7, index: 10, field: 'area', reason: "'area' must be a finite number ≥ 0, got -1" },
      { annotationId: 19, imageId: 7, index: 11, field: 'iscrowd', reason: "'iscrowd' must be 0 or 1, got true" },
    ]);
    assert.deepEqual(
      read.annotations.map((a) => a.id),
      [1, 2, 30],
    );
    assert.equal(read.images.length, 2);
    assert.deepEqual((read as unknown as { info: unknown }).info, { year: 2026 });
  });

  it('throws with the same words without the option', () => {
    assert.throws(
      () => parseCocoInstances(JSON.stringify(withBadAnnotations()), 'gt.json'),
      /^Error: gt\.json: annotations\[2\] \(id 10\): 'image_id' 8 names no image of this file$/,
    );
  });

  it('still throws on structural problems', () => {
    const collectError = (edit: (gt: Record<string, unknown[]>) => void): string => {
      const gt = withBadAnnotations();
      edit(gt);
      try {
        parseCocoInstances(JSON.stringify(gt), 'gt.json', { badAnnotations: 'collect' });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected the ground truth to be rejected');
    };
    const cases: [(gt: Record<string, unknown[]>) => void, RegExp][] = [
      [
        (gt) => ((gt.annotations[3] as Record<string, unknown>).id = 10),
        /annotations\[3\]: duplicate annotation id 10 \(also annotations\[2\]\)/,
      ],
      [
        (gt) => ((gt.annotations[0] as Record<string, unknown>).image_id = '7'),
        /annotations\[0\] \(id 1\): 'image_id' must be an integer id, got "7"/,
      ],
      [
        (gt) => ((gt.annotations[0] as Record<string, unknown>).category_id = undefined),
        /annotations\[0\] \(id 1\): 'category_id' must be an integer id, got nothing/,
      ],
      [(gt) => (gt.annotations[0] = [1]), /annotations\[0\]: must be an object, got \[1\]/],
      [
        (gt) => ((gt.categories[1] as Record<string, unknown>).id = 1),
        /categories\[1\]: duplicate category id 1 \(also categories\[0\]\)/,
      ],
      [(gt) => ((gt.images[1] as Record<string, unknown>).id = BIG_ID), /images\[1\]: duplicate image id 20180000001/],
      [
        (gt) => ((gt.images[0] as Record<string, unknown>).file_name = 3),
        /images\[0\] \(id 20180000001\): 'file_name' must be a string/,
      ],
      [(gt) => delete (gt as Record<string, unknown>).images, /gt\.json: 'images' must be an array/],
    ];
    for (const [edit, message] of cases) assert.match(collectError(edit), message);
    assert.throws(
      () => parseCocoInstances('{"images": [', 'gt.json', { badAnnotations: 'collect' }),
      /gt\.json: invalid JSON at line 1, column 13/,
    );
  });
});

describe('readCocoDetections', () => {
  it('reads a results list and a COCO-style object with annotations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coco-'));
    const gt = instances();
    // a box partly outside its image and a score of 0 are valid detections (pycocotools takes both)
    writeFileSync(join(dir, 'list.json'), JSON.stringify([det, { ...det, bbox: [-20, -20, 25, 25], score: 0 }]));
    writeFileSync(join(dir, 'object.json'), JSON.stringify({ images: [], annotations: [det] }));
    assert.equal((await readCocoDetections(join(dir, 'list.json'), gt)).length, 2);
    assert.deepEqual(await readCocoDetections(join(dir, 'object.json'), gt), [det]);
  });

  it('names the file, entry and field of each bad detection', () => {
    const cases: [unknown, RegExp][] = [
      [[det, { ...det, image_id: 8 }], /dt\.json: detections\[1\]: 'image_id' 8 names no image of the ground truth/],
      [{ annotations: [{ ...det, category_id: 2 }] }, /dt\.json: annotations\[0\]: 'category_id' 2 names no category/],
      [[{ ...det, score: -0.5 }], /detections\[0\]: 'score' must be a finite number ≥ 0, got -0.5/],
      [[{ ...det, score: Number.NaN }], /'score' must be a finite number ≥ 0/],
      [[{ ...det, score: undefined }], /'score' must be a finite number ≥ 0, got nothing/],
      [[{ ...det, bbox: [1, 2, 0, 4] }], /detections\[0\]: 'bbox' width must be > 0, got 0/],
      [[{ ...det, bbox: [1, 2, 3] }], /'bbox' must be \[x, y, width, height\]/],
      [[{ ...det, bbox: [50, 0, 3, 4] }], /'bbox' \[50,0,3,4\] lies entirely outside image 7 \(50×50\)/],
      [{ results: [] }, /dt\.json: must be a results list/],
      [[det, 3], /detections\[1\]: must be an object, got 3/],
    ];
    for (const [detections, message] of cases) assert.match(dtError(detections), message);
  });
});
