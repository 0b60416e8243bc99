/**
 * `sasa detect predict --model-dir DIR IMAGE... [--out DIR] [--score 0.5]`: each image's detections with a
 * score ≥ --score drawn (box, class name, score) into OUT/<name>.png. An image that cannot be read is named
 * on stderr and the others go on; the exit status is then 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { predictImage } from '../tasks/detection/predict_image.js';
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

/** Writes OUT/<image name>.png for each image; returns the files written and the images that failed. */
export async function predictImages(
  net: RetinaNet,
  metadata: DetectorMetadata,
  images: readonly string[],
  out: string,
  minScore: number,
): Promise<{ written: string[]; failed: string[] }> {
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  const failed: string[] = [];
  for (const file of images) {
    try {
      const { image, detections } = await predictImage(net, metadata, file);
      const boxes: DrawnBox[] = [];
      detections.scores.forEach((score, i) => {
        if (score < minScore) return;
        const [x1, y1, x2, y2] = detections.boxes.subarray(i * 4, i * 4 + 4);
        const classIndex = detections.labels[i];
        boxes.push({ box: [x1, y1, x2, y2], label: metadata.categories.names[classIndex], score, classIndex });
      });
      const path = join(out, `${basename(file, extname(file))}.png`);
      writeFileSync(path, await drawDetections(image, boxes));
      written.push(path);
      process.stderr.write(`${file}: ${boxes.length} detection${boxes.length === 1 ? '' : 's'} → ${path}\n`);
    } catch (err) {
      failed.push(file);
      process.stderr.write(`sasa: error: ${file}: ${(err as Error).message.split('\n')[0]}\n`);
    }
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
