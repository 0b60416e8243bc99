/**
 * Detection box operations per image against torchvision 0.14 on the same inputs, in one sitting:
 * IoU of the RetinaNet anchors of a 512×512 (49k) and an 800×800 (120k) image with 20 ground-truth boxes,
 * the training match (IoU + matcher), and NMS / class-wise batched NMS (80 classes) of 1 000 – 10 000
 * candidates clustered around 60 objects. Writes the inputs to a temporary folder, runs
 * bench/detection_boxes_torch.py on them (torch single-threaded, as this is) after each round of ours, keeps
 * each side's best median over the rounds, and checks the two agree.
 *   npx tsx bench/detection_boxes.ts [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../src/data/random.js';
import { generateAnchors } from '../src/tasks/detection/anchors.js';
import { boxIou } from '../src/tasks/detection/boxes.js';
import { matchAnchors } from '../src/tasks/detection/matcher.js';
import { batchedNms, nms } from '../src/tasks/detection/nms.js';
import { alternateRounds, printRounds } from './peer_rounds.js';

const random = rng(2019);
const dir = mkdtempSync(join(tmpdir(), 'sasa-boxes-'));

function randomBoxes(n: number, size: number, minSide: number, maxSide: number): Float32Array {
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const [w, h] = [minSide + random() * (maxSide - minSide), minSide + random() * (maxSide - minSide)];
    const [x, y] = [random() * (size - w), random() * (size - h)];
    boxes.set([x, y, x + w, y + h], i * 4);
  }
  return boxes;
}

/** n candidates jittered around 60 objects (as a detector's decoded boxes), scores distinct in (0, 1). */
function candidates(n: number): { boxes: Float32Array; scores: Float32Array; classes: Int32Array } {
  const objects = randomBoxes(60, 800, 30, 300);
  const boxes = new Float32Array(n * 4);
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = Math.floor(random() * 60) * 4;
    const side = objects[o + 2] - objects[o];
    for (let c = 0; c < 4; c++) boxes[i * 4 + c] = objects[o + c] + (random() - 0.5) * 0.3 * side;
    classes[i] = Math.floor(random() * 80);
  }
  const scores = Float32Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [scores[i], scores[j]] = [scores[j], scores[i]];
  }
  return { boxes, scores, classes };
}

function save(name: string, values: Float32Array | Int32Array): void {
  writeFileSync(join(dir, name), values);
}

const gt = randomBoxes(20, 512, 16, 400);
save('gt.f32', gt);
const cases: { op: string; runs: number; run: () => Int32Array | Float32Array }[] = [];
for (const size of [512, 800]) {
  const { boxes: anchors } = generateAnchors([size, size]);
  save(`anchors${size}.f32`, anchors);
  cases.push({ op: `iou ${size} (${anchors.length / 4} anchors x 20)`, runs: 15, run: () => boxIou(gt, anchors) });
  cases.push({ op: `match ${size}`, runs: 15, run: () => matchAnchors(gt, anchors) });
}
for (const n of [1000, 5000, 10000]) {
  const { boxes, scores, classes } = candidates(n);
  save(`boxes${n}.f32`, boxes);
  save(`scores${n}.f32`, scores);
  save(`classes${n}.i32`, classes);
  cases.push({ op: `nms ${n}`, runs: 11, run: () => nms(boxes, scores, 0.5) });
  cases.push({ op: `batched nms ${n}`, runs: 11, run: () => batchedNms(boxes, scores, classes, 0.5) });
}

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 3);
const { peer: torch, ...best } = alternateRounds(cases, {
  rounds,
  peerScript: new URL('detection_boxes_torch.py', import.meta.url).pathname,
  peerArgs: [dir],
  warmup: 3,
  warmupMs: 200,
});
rmSync(dir, { recursive: true });
printRounds(cases, best, 36, 2);
for (const { op, run } of cases) {
  if (op.startsWith('iou')) continue;
  const result = Array.from(run());
  const same = JSON.stringify(result) === JSON.stringify(torch.results[op]);
  console.log(`${op}: ${same ? 'same result as torchvision' : 'DIFFERS from torchvision'} (${result.length} entries)`);
}
console.log(`(best median of ${rounds} alternating rounds; node ${process.version}; torch single-threaded)`);
