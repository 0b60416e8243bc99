/**
 * `sasa detect predict --model-dir DIR IMAGE... [--out DIR] [--score 0.5]`: each image's detections with a
 * score ≥ --score drawn (box, class name, score) into OUT/<name>.png. An image that cannot be read is named
 * on stderr and the others go on; the exit status is then 1.
 */
import { writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { makeFolders, readFailure, writingSync } from '../io/files.js';
import { type ImagePrediction, predictImage } from '../tasks/detection/predict_image.js';
import { type RetinaNet, retinaNetOf } from '../tasks/detection/retinanet.js';
import { type DetectorMetadata, loadDetector } from '../tasks/detection/saved_detector.js';
import { type DrawnBox, drawDetections } from '../viz/detections.js';
import { fraction } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';

interface DetectPredictFlags extends BackendFlags {
  modelDir: string;
  out: string;
  score: number;
}

/** The boxes of `detections` with at least `minScore`, labelled with the detector's class names. */
function drawnBoxes(metadata: DetectorMetadata, detections: ImagePrediction['detections'], minScore: number) {
  const boxes: DrawnBox[] = [];
  detections.scores.forEach((score, i) => {
    if (score < minScore) return;
    const [x1, y1, x2, y2] = detections.boxes.subarray(i * 4, i * 4 + 4);
    const classIndex = detections.labels[i];
    boxes.push({ box: [x1, y1, x2, y2], label: metadata.categories.names[classIndex], score, classIndex });
  });
  return boxes;
}

/** An image's predictions drawn (PNG bytes, boxes drawn), or why the image could not be read. */
async function drawnPrediction(net: RetinaNet, metadata: DetectorMetadata, file: string, minScore: number) {
  try {
    const { image, detections } = await predictImage(net, metadata, file);
    const boxes = drawnBoxes(metadata, detections, minScore);
    return { png: await drawDetections(image, boxes), count: boxes.length };
  } catch (err) {
    const failure = readFailure(err);
    return { error: failure ? `cannot read the image (${failure})` : (err as Error).message.split('\n')[0] };
  }
}

/**
 * Writes OUT/<image name>.png for each image; returns the files written and the images that failed
 * (each named on stderr). OUT is made for the first picture, so a run whose images all fail leaves
 * none; an OUT that cannot be written stops the run.
 */
export async function predictImages(
  net: RetinaNet,
  metadata: DetectorMetadata,
  images: readonly string[],
  out: string,
  minScore: number,
): Promise<{ written: string[]; failed: string[] }> {
  const written: string[] = [];
  const failed: string[] = [];
  for (const file of images) {
    const p = await drawnPrediction(net, metadata, file, minScore);
    if (p.error !== undefined) {
      failed.push(file);
      process.stderr.write(`sasa: error: ${file}: ${p.error}\n`);
      continue;
    }
    const path = join(out, `${basename(file, extname(file))}.png`);
    writingSync(path, 'the drawn detections', () => {
      makeFolders(out);
      writeFileSync(path, p.png);
    });
    written.push(path);
    process.stderr.write(`${file}: ${p.count} detection${p.count === 1 ? '' : 's'} → ${path}\n`);
  }
  return { written, failed };
}

export function registerDetectPredict(detect: Command): void {
  const cmd = detect
    .command('predict')
    .description('draw a trained detector’s boxes, class names and scores onto a PNG per image')
    .argument('<images...>', 'image files')
    .requiredOption('--model-dir <dir>', "a trained detector: the model/ folder of a 'sasa detect train' run")
    .option('--out <dir>', 'where the PNGs go', 'predictions')
    .option('--score <s>', 'draw detections with at least this score', fraction('--score'), 0.5);
  withBackendOptions(cmd).action(async (images: string[], flags: DetectPredictFlags) => {
    await startBackend(flags);
    const { model, metadata } = await loadDetector(flags.modelDir);
    const { failed } = await predictImages(
      retinaNetOf(model, metadata.detector),
      metadata,
      images,
      flags.out,
      flags.score,
    );
    model.dispose();
    if (failed.length) {
      throw new Error(`${failed.length} of ${images.length} images could not be predicted: ${failed.join(', ')}`);
    }
  });
}
