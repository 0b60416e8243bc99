/** `sasa coco-eval` through the real command line: summary text, --json, --per-class, --plot, and bad input. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CASE = 'test/golden/coco_eval/random_crowds';
const FIXTURE = 'test/golden/coco_eval/fixture';

function sasa(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coco-eval', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('sasa coco-eval', () => {
  it("prints pycocotools' 12 lines with the fixture's numbers", () => {
    const r = sasa('--gt', join(FIXTURE, 'gt.json'), '--dt', join(FIXTURE, 'dt.json'));
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 12);
    assert.equal(lines[0], ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.504');
    assert.equal(lines[6], ' Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.387');
  });

  it('--json --per-class --plot: one JSON object on stdout with the stats, the classes, and a PNG', () => {
    const png = join(mkdtempSync(join(tmpdir(), 'coco-cli-')), 'pr.png');
    const r = sasa(
      '--gt',
      join(CASE, 'gt.json'),
      '--dt',
      join(CASE, 'dt.json'),
      '--json',
      '--per-class',
      '--plot',
      png,
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { stats: number[]; AP: number; perClass: { id: number; ap: number }[] };
    const expected = JSON.parse(readFileSync(join(CASE, 'expected.json'), 'utf8')) as {
      stats: number[];
      per_category: { id: number; ap: number }[];
    };
    assert.equal(out.stats.length, 12);
    for (const [i, s] of out.stats.entries()) assert.ok(Math.abs(s - expected.stats[i]) < 1e-9, `stats[${i}]`);
    assert.equal(out.AP, out.stats[0]);
    assert.deepEqual(
      out.perClass.map((c) => c.id),
      expected.per_category.map((c) => c.id),
    );
    assert.deepEqual([...readFileSync(png).subarray(1, 4)], [...Buffer.from('PNG')]);
  });

  it('--per-class prints a table of name, id, AP, AP50 (n/a without ground truth)', () => {
    const r = sasa('--gt', join(CASE, 'gt.json'), '--dt', join(CASE, 'dt.json'), '--per-class');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /category\s+id\s+AP\s+AP50/);
    assert.match(r.stdout, /class6\s+6\s+n\/a\s+n\/a/);
  });

  it('exits 1 naming the file, the entry and the field for bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coco-cli-'));
    const gt = JSON.parse(readFileSync(join(CASE, 'gt.json'), 'utf8')) as { annotations: Record<string, unknown>[] };
    const noArea = join(dir, 'no_area.json');
    delete gt.annotations[3].area;
    writeFileSync(noArea, JSON.stringify(gt));
    const badDt = join(dir, 'bad_dt.json');
    writeFileSync(badDt, JSON.stringify([{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], score: 1 }]));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[\n  {"image_id": 1}\n  {"image_id": 2}\n]');
    const cases: [string[], RegExp][] = [
      [
        ['--gt', noArea, '--dt', join(CASE, 'dt.json')],
        /no_area\.json: annotations\[3\] \(id \d+\): 'area' is missing/,
      ],
      [['--gt', join(CASE, 'gt.json'), '--dt', badDt], /bad_dt\.json: detections\[0\]: 'image_id' 1 names no image/],
      [['--gt', join(CASE, 'gt.json'), '--dt', broken], /broken\.json: invalid JSON at line 3, column 3/],
      [
        ['--gt', join(dir, 'missing.json'), '--dt', badDt],
        /missing\.json: cannot read \(no such file or folder, ENOENT\)/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = sasa(...args);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /^sasa: error: /);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
  });
});
