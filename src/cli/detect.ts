/** `sasa detect train | eval | predict | demo`: RetinaNet detection (tasks/detection). */
import type { Command } from 'commander';
import { registerDetectDemo } from './detect_demo.js';
import { registerDetectEval } from './detect_eval.js';
import { registerDetectPredict } from './detect_predict.js';
import { registerDetectTrain } from './detect_train.js';

export function registerDetect(program: Command): void {
  const detect = program.command('detect').description('object detection with RetinaNet: train, eval, predict, demo');
  registerDetectTrain(detect);
  registerDetectEval(detect);
  registerDetectPredict(detect);
  registerDetectDemo(detect);
}
