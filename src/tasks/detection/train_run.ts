/**
 * The first part of a detector training run: check the folder and the options, resume (the stored options
 * with the applied changes, the checkpoint's weights, SGD velocities and position), build the detector
 * (seeded; the backbone from a classifier's weights when asked), the step and the schedule. Every refusal
 * comes before anything is written to the folder.
 */
import { join } from 'node:path';
import type { DetectionData } from '../../data/detection/spec.js';
import { buildDetector } from '../../models/detection/builder.js';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainState } from '../classification/checkpoint.js';
import { type OptionChange, resumeOptions } from '../training/resume_options.js';
import {
  CHECKPOINT,
  checkOutFolder,
  createRunFolder,
  type FolderBefore,
  refuseEarlierRun,
  removeStaleTemporaries,
  requireCheckpoint,
} from '../training/run_folder.js';
import { epochSchedule, type Schedule } from '../training/schedule.js';
import { loadBackboneWeights } from './backbone_weights.js';
import { type RetinaNet, retinaNetOf } from './retinanet.js';
import { type DetectionStep, makeDetectionStep } from './step.js';
import { checkDetectorTrainOptions, DETECTOR_RESUME_RULES, type DetectorTrainOptions } from './train_options.js';

/** What the checkpoint's `run` field holds for a detection run. */
export interface DetectionRunRecord {
  options: DetectorTrainOptions;
  data: string;
}

export interface DetectionRun {
  outDir: string;
  checkpointPath: string;
  options: DetectorTrainOptions;
  data: DetectionData;
  net: RetinaNet;
  step: DetectionStep;
  schedule: Schedule;
  state: Required<TrainState> & { run: DetectionRunRecord };
  /** The step of the checkpoint the run resumed from; null for a new run. */
  resumedAt: number | null;
  changes: OptionChange[];
  /** Backbone layers loaded from --backbone-weights (new runs only). */
  backboneLayers: string[];
  /** The folder as the run found it (what a failed new run removes: removeRunLeftovers). */
  folder: FolderBefore;
}

export interface DetectionRunStart {
  resume?: boolean;
  /** On a resume, the options asked for on the command line; the others keep their stored values. */
  given?: readonly (keyof DetectorTrainOptions)[];
}

/** Optimizer steps per epoch: the training images in batches (the last one may be smaller). */
export function stepsPerEpoch(data: DetectionData, batchSize: number): number {
  return Math.max(1, Math.ceil(data.train.images.length / batchSize));
}

/** Throws, naming the data, unless the detector's classes are the data's. */
function checkClasses(o: DetectorTrainOptions, data: DetectionData): void {
  const classes = o.detector.classes;
  if (classes !== data.categories.ids.length) {
    throw new Error(`${data.name}: the detector has ${classes} classes, the data ${data.categories.ids.length}`);
  }
  if (data.train.images.length === 0) throw new Error(`${data.name}: the training split holds no image`);
}

/** Saves the run's checkpoint (weights, batch-norm statistics, velocities, position). */
export function saveDetectionRun(run: DetectionRun): Promise<void> {
  return saveCheckpoint(run.checkpointPath, run.net.model, run.step.optimizer, null, run.state);
}

export async function prepareDetectionRun(
  requested: DetectorTrainOptions,
  data: DetectionData,
  dataName: string,
  outDir: string,
  { resume = false, given }: DetectionRunStart = {},
): Promise<DetectionRun> {
  checkOutFolder(outDir);
  const checkpointPath = join(outDir, CHECKPOINT);
  let options = requested;
  let changes: OptionChange[] = [];
  let stored: TrainState | null = null;
  let checkpoint: Awaited<ReturnType<typeof readCheckpoint>> | null = null;
  if (resume) {
    requireCheckpoint(outDir);
    checkpoint = await readCheckpoint(checkpointPath);
    stored = checkpoint.state;
    const record = stored.run as unknown as DetectionRunRecord;
    ({ options, changes } = resumeOptions(
      checkpointPath,
      { ...record.options, optimizer: record.options.optimizer ?? 'sgd' },
      requested,
      DETECTOR_RESUME_RULES,
      given?.filter((k) => k !== 'backboneWeights'),
    ));
  } else refuseEarlierRun(outDir);
  checkDetectorTrainOptions(options);
  checkClasses(options, data);
  const schedule = epochSchedule(options, stepsPerEpoch(data, options.batchSize));
  const model = buildDetector({ ...options.detector, inputSize: options.size }, { seed: options.seed });
  const net = retinaNetOf(model, options.detector);
  const step = makeDetectionStep(net, options);
  let backboneLayers: string[] = [];
  if (checkpoint) restoreCheckpoint(checkpointPath, checkpoint, model, step.optimizer, null);
  else if (options.backboneWeights) backboneLayers = await loadBackboneWeights(model, options.backboneWeights);
  const folder = createRunFolder(outDir);
  removeStaleTemporaries(outDir);
  const state = {
    step: stored?.step ?? 0,
    epoch: stored?.epoch ?? 0,
    batch: stored?.batch ?? 0,
    cursor: stored?.cursor ?? 0,
    skipped: stored?.skipped ?? 0,
    lossSum: stored?.lossSum ?? 0,
    lossCount: stored?.lossCount ?? 0,
    run: { options, data: dataName },
  };
  return {
    outDir,
    checkpointPath,
    options,
    data,
    net,
    step,
    schedule,
    state,
    resumedAt: stored ? stored.step : null,
    changes,
    backboneLayers,
    folder,
  };
}
