/**
 * The detection data layer's speed: the shapes generator (images per second, PNG written) and the streamed
 * batches (images per second: decode, normalise, resize shorter side → S with the longer ≤ L, flip, pad to
 * 128) on a `coco:`/`voc100:` folder. One JSON line per measurement, best of `--rounds`:
 *   npx tsx bench/detection_data.ts [--data voc100:/work/shared/data/voc100] [--rounds 3]
 * The peer (PIL decode + torch bilinear resize, the same steps): bench/detection_data_peer.py.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectionBatches } from '../src/data/detection/batches.js';
import { writeShapesDataset } from '../src/data/detection/shapes/write.js';
import { openDetectionData, parseDetectionSpec } from '../src/data/detection/spec.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'voc100:/work/shared/data/voc100' },
    rounds: { type: 'string', default: '3' },
  },
});
const rounds = Number(values.rounds);

async function best(f: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let r = 0; r < rounds; r++) top = Math.max(top, await f());
  return top;
}

const dir = mkdtempSync(join(tmpdir(), 'sasa-bench-shapes-'));
const generated = await best(async () => {
  const t = performance.now();
  await writeShapesDataset(join(dir, 'out'), { train: 100, val: 0 });
  return 100 / ((performance.now() - t) / 1000);
});
console.log(JSON.stringify({ case: 'shapes generate 256×256', images_per_s: Number(generated.toFixed(1)) }));

for (const [label, spec, shorter, maxSize] of [
  ['shapes (100 generated)', `shapes:${join(dir, 'out')}`, 256, 256],
  [values.data as string, values.data as string, 512, 853],
] as const) {
  const data = await openDetectionData(parseDetectionSpec(spec), { validationFraction: 0 });
  const rate = await best(async () => {
    const t = performance.now();
    let n = 0;
    const o = { batchSize: 8, shorterSide: shorter, maxSize, augment: true };
    for await (const b of detectionBatches(data.train, o)) n += b.size;
    return n / ((performance.now() - t) / 1000);
  });
  console.log(
    JSON.stringify({ case: `batches ${label} S=${shorter} L=${maxSize}`, images_per_s: Number(rate.toFixed(1)) }),
  );
}
rmSync(dir, { recursive: true, force: true });
