/**
 * `sasa detect eval --model-dir DIR --data SPEC [--split val|train] [--out results.json]`: a trained
 * detector run over a split; the COCO results list written, and the 12-line COCO summary printed as
 * `sasa coco-eval` prints it.
 */
import type { Command } from 'commander';
import type { DetectionData } from '../data/detection/spec.js';
import { writeFileAtomic, writing } from '../io/files.js';
import { summaryLines } from '../tasks/detection/coco_eval/summarize.js';
import { evaluateSet } from '../tasks/detection/evaluate_set.js';
import { retinaNetOf } from '../tasks/detection/retinanet.js';
import { type DetectorMetadata, loadDetector } from '../tasks/detection/saved_detector.js';
import { oneOf, positiveInt } from './args.js';
import { type BackendFlags, startBackend, withBackendOptions } from './backend_option.js';
import { openDetection } from './detect_data.js';

const SPLITS = ['val', 'train'] as const;

interface DetectEvalFlags extends BackendFlags {
  modelDir: string;
  data: string;
  split: (typeof SPLITS)[number];
  out?: string;
  batchSize: number;
}

/** Throws, naming both, unless the data's classes are the detector's. */
export function checkSameCategories(metadata: DetectorMetadata, data: DetectionData, modelDir: string): void {
  if (JSON.stringify(metadata.categories.ids) !== JSON.stringify(data.categories.ids)) {
    throw new Error(
      `--data ${data.name}: its category ids [${data.categories.ids}] are not the detector's [${metadata.categories.ids}] (--model-dir ${modelDir})`,
    );
  }
}

export function registerDetectEval(detect: Command): void {
  const cmd = detect
    .command('eval')
    .description('COCO evaluation of a trained detector on a split; writes the COCO results JSON')
    .requiredOption('--model-dir <dir>', "a trained detector: the model/ folder of a 'sasa detect train' run")
    .requiredOption('--data <spec>', 'shapes, shapes:DIR, coco:ANN.json,IMAGES_DIR or voc100:DIR')
    .option('--split <split>', `the split: ${SPLITS.join(' or ')}`, oneOf('--split', SPLITS), 'val')
    .option('--out <file>', 'write the detections as a COCO results list (JSON)')
    .option('--batch-size <n>', 'images per forward pass', positiveInt('--batch-size'), 8);
  withBackendOptions(cmd).action(async (flags: DetectEvalFlags) => {
    await startBackend(flags);
    const { model, metadata } = await loadDetector(flags.modelDir);
    const data = await openDetection(flags.data);
    checkSameCategories(metadata, data, flags.modelDir);
    const set = flags.split === 'val' ? data.validation : data.train;
    const { results, evaluation, skipped } = await evaluateSet(retinaNetOf(model, metadata.detector), set, {
      batchSize: flags.batchSize,
      size: metadata.size,
      onSkip: (s) =>
        process.stderr.write(
          `skipped ${s.path}${s.annotationId === undefined ? '' : ` annotation ${s.annotationId}`}: ${s.reason}\n`,
        ),
    });
    model.dispose();
    const out = flags.out;
    if (out) {
      const text = Buffer.from(`${JSON.stringify(results)}\n`);
      await writing(out, 'the detections', () => writeFileAtomic(out, [text]));
    }
    process.stderr.write(
      `detect eval: ${set.images.length - skipped.filter((s) => s.annotationId === undefined).length} images of ${set.name}, ${results.length} detections\n`,
    );
    if (!evaluation) throw new Error(`${set.name}: no ground-truth box to evaluate against`);
    console.log(summaryLines(evaluation.stats, evaluation.params).join('\n'));
  });
}
