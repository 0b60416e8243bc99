/**
 * `sasa detect demo`: the demo detector (retinanet_demo, or retinanet_demo_attnfpn with --fpn attention)
 * trained on the generated shapes dataset (generated into the cache on first use), its COCO evaluation on
 * the validation split, and its predictions drawn on a few held-out images (OUT/predictions/).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { FPN_TYPES } from '../models/detection/config.js';
import { summaryLines } from '../tasks/detection/coco_eval/summarize.js';
import { evaluateSet } from '../tasks/detection/evaluate_set.js';
import { retinaNetOf } from '../tasks/detection/retinanet.js';
import { loadDetector } from '../tasks/detection/saved_detector.js';
import { DETECTOR_TRAIN_DEFAULTS } from '../tasks/detection/train_options.js';
import { trainDetector } from '../tasks/detection/trainer.js';
import { fraction, oneOf, positiveInt } from './args.js';
import { startBackend, withBackendOptions } from './backend_option.js';
import { openDetection } from './detect_data.js';
import { predictImages } from './detect_predict.js';
import { checkOptimizerFlags, type DetectTrainFlags, trainOptionsOf, withTrainingOptions } from './detect_train.js';
import { DetectionProgress } from './detection_progress.js';

/** The demo's budget: a few minutes on 2 cores. */
export const DEMO_TRAIN_DEFAULTS = {
  ...DETECTOR_TRAIN_DEFAULTS,
  epochs: 8,
  batchSize: 8,
  lr: 0.02,
  checkpointEvery: 50,
};

interface DetectDemoFlags extends DetectTrainFlags {
  show: number;
  score: number;
}

export function registerDetectDemo(detect: Command): void {
  const cmd = detect
    .command('demo')
    .description('train the demo detector on the generated shapes, evaluate it, draw predictions on held-out images')
    .option('--fpn <kind>', `feature pyramid: ${FPN_TYPES.join(' or ')}`, oneOf('--fpn', FPN_TYPES), 'conv')
    .option('--data <spec>', 'the shapes data (shapes: generated into the cache on first use)', 'shapes')
    .option('--out <dir>', 'run folder', 'detect-demo')
    .option('--show <n>', 'held-out images to draw predictions on', positiveInt('--show'), 4)
    .option('--score <s>', 'draw detections with at least this score', fraction('--score'), 0.5);
  withBackendOptions(withTrainingOptions(cmd, DEMO_TRAIN_DEFAULTS)).action(async (flags: DetectDemoFlags) => {
    const started = performance.now();
    checkOptimizerFlags(cmd, flags);
    await startBackend(flags);
    const data = await openDetection(flags.data, { seed: flags.seed });
    const options = trainOptionsOf(flags, data.categories.ids.length);
    const result = await trainDetector(options, data, flags.data, flags.out, { callbacks: [new DetectionProgress()] });
    const { model, metadata } = await loadDetector(result.modelDir);
    const net = retinaNetOf(model, metadata.detector);
    const { evaluation } = await evaluateSet(net, data.validation, {
      batchSize: options.batchSize,
      size: options.size,
    });
    if (evaluation) console.log(summaryLines(evaluation.stats, evaluation.params).join('\n'));
    const shown = data.validation.images.slice(0, flags.show).map((i) => i.path);
    const { written } = await predictImages(net, metadata, shown, join(flags.out, 'predictions'), flags.score);
    model.dispose();
    const seconds = (performance.now() - started) / 1000;
    const ap50 = evaluation ? evaluation.stats[1].toFixed(3) : 'n/a';
    console.log(
      `detect demo: ${options.detector.name}, ${result.steps} steps, ${seconds.toFixed(0)} s in all; validation AP50 ${ap50}; predictions in ${join(flags.out, 'predictions')} (${written.length})`,
    );
  });
}
