/**
 * RetinaNet's losses with their gradient, and its post-processing, for one 512×512 image (49 104 anchors,
 * 80 classes) against torchvision 0.14 on the same inputs, in one sitting. The loss includes the anchor
 * matching (torchvision: `RetinaNet.compute_loss` = Matcher + `RetinaNetHead.compute_loss`) and the backward
 * pass to both outputs; post-processing starts from the output tensors (ours reads them back). Two logit
 * spreads: N(-4.6, 0.5) (few scores above 0.05, as early in training) and N(-4.6, 1.2) (~8 % above: 330k
 * candidates cut to 1000 per level). Writes the inputs to a temporary folder, runs
 * bench/retinanet_loss_torch.py on them after each round of ours, keeps each side's best median, and checks
 * that both give the same losses and detections.
 *   npx tsx bench/retinanet_loss.ts [--rounds 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend/native.js';
import { rng } from '../src/data/random.js';
import { generateAnchors } from '../src/tasks/detection/anchors.js';
import { type Detections, detectImage } from '../src/tasks/detection/postprocess.js';
import { retinaNetLoss } from '../src/tasks/detection/retinanet_loss.js';
import * as tf from '../src/tf.js';
import { alternateRounds, printRounds } from './peer_rounds.js';

const SIZE = 512;
const CLASSES = 80;
const random = rng(2017);
const dir = mkdtempSync(join(tmpdir(), 'sasa-retinanet-'));

/** Standard normal values (Box–Muller) · spread + mean, float32. */
function normal(n: number, mean: number, spread: number): Float32Array {
  return Float32Array.from(
    { length: n },
    () => mean + spread * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()),
  );
}

function groundTruth(n: number): { boxes: Float32Array; labels: Int32Array } {
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const [w, h] = [16 + random() * 300, 16 + random() * 300];
    const [x, y] = [random() * (SIZE - w), random() * (SIZE - h)];
    boxes.set([x, y, x + w, y + h], i * 4);
  }
  return { boxes, labels: Int32Array.from({ length: n }, () => Math.floor(random() * CLASSES)) };
}

const backend = await initBackend();
const anchors = generateAnchors([SIZE, SIZE]);
const a = anchors.boxes.length / 4;
const target = groundTruth(12);
const deltas = normal(a * 4, 0, 0.3);
writeFileSync(join(dir, 'boxes.f32'), target.boxes);
writeFileSync(join(dir, 'labels.i32'), target.labels);
writeFileSync(join(dir, 'deltas.f32'), deltas);
const spreads = [0.5, 1.2];
const logitsOf = spreads.map((spread) => {
  const logits = normal(a * CLASSES, -4.6, spread);
  writeFileSync(join(dir, `logits${spread}.f32`), logits);
  return logits;
});

const clsTensor = (logits: Float32Array) => tf.tensor3d(logits, [1, a, CLASSES]);
const boxTensor = tf.tensor3d(deltas, [1, a, 4]);

/** Loss values and gradients, all read back. */
function lossAndGradient(logits: tf.Tensor3D): number[] {
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, r: tf.Tensor) => {
      const losses = retinaNetLoss(
        { clsLogits: x as tf.Tensor3D, boxRegression: r as tf.Tensor3D },
        [target],
        anchors.boxes,
      );
      return tf.add(losses.classification, losses.boxRegression);
    })([logits, boxTensor]);
    for (const g of grads) g.dataSync();
    const losses = retinaNetLoss({ clsLogits: logits, boxRegression: boxTensor }, [target], anchors.boxes);
    return [value.dataSync()[0], losses.classification.dataSync()[0], losses.boxRegression.dataSync()[0]];
  });
}

function postprocess(logits: tf.Tensor3D): Detections {
  const outputs = {
    logits: logits.dataSync() as Float32Array,
    deltas: boxTensor.dataSync() as Float32Array,
    numClasses: CLASSES,
  };
  return detectImage(outputs, anchors, [SIZE, SIZE]);
}

const cases = spreads.flatMap((spread, i) => {
  const logits = clsTensor(logitsOf[i]);
  return [
    { op: `loss + gradient, spread ${spread}`, runs: 5, run: () => lossAndGradient(logits) },
    { op: `postprocess, spread ${spread}`, runs: 11, run: () => postprocess(logits) },
  ];
});

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 3);
const { peer: torch, ...best } = alternateRounds(cases, {
  rounds,
  peerScript: new URL('retinanet_loss_torch.py', import.meta.url).pathname,
  peerArgs: [dir],
  warmup: 2,
  warmupMs: 500,
});
rmSync(dir, { recursive: true });
printRounds(cases, best, 32, 1);
for (const { op, run } of cases) {
  const ours = run();
  const theirs = torch.results[op];
  if (Array.isArray(ours)) {
    const worst = Math.max(...ours.map((v, i) => Math.abs(v - theirs[i]) / Math.abs(theirs[i])));
    console.log(
      `${op}: losses (total, classification, box) ${ours.map((v) => v.toPrecision(7))}; torchvision ${theirs.map((v) => v.toPrecision(7))}; max relative difference ${worst.toExponential(1)}`,
    );
  } else {
    const same = ours.scores.length === theirs.length && ours.scores.every((s, i) => Math.abs(s - theirs[i]) <= 1e-6);
    console.log(
      `${op}: ${ours.scores.length} detections, scores ${same ? 'the same as' : 'DIFFERENT from'} torchvision's`,
    );
  }
}
console.log(
  `(best median of ${rounds} alternating rounds; backend ${backend.backend}; node ${process.version}; torch ${torch.results.threads[0]} threads)`,
);
