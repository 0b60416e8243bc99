/**
 * The first part of a classification run: check the folder and the options, resume (the stored
 * options with the applied changes, the checkpoint's weights, optimizer state, weight averages and
 * position), prepare the data, build the model, the step and the schedule. Every refusal comes
 * before anything is written to the folder.
 */
import { join } from 'node:path';
import { memorySource } from '../../data/memory_source.js';
import type { DataSource, TrainData } from '../../data/source.js';
import type { LoadedData } from '../../data/spec.js';
import { writing } from '../../io/files.js';
import { buildModel } from '../../models/builder.js';
import { type ModelConfig, resolveConfig } from '../../models/config.js';
import type * as tf from '../../tf.js';
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
import { type Checkpoint, readCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { WeightAverage } from './ema.js';
import { checkOptions, OPTION_COMPARISON, RESUME_RULES, type TrainOptions } from './options.js';
import { makeTrainStep, type TrainStep } from './step.js';

/** Options changed at a resume: the step it continued from and each option's [from, to]. */
export interface ResumeChanges {
  step: number;
  changed: Record<string, [unknown, unknown]>;
}

/** What the checkpoint's `run` field holds for a classification run. */
export type RunRecord = {
  options: TrainOptions;
  data: string;
  /** Every resume that changed options, in order (absent when none did). */
  changes?: ResumeChanges[];
};

export interface Run {
  outDir: string;
  checkpointPath: string;
  /** The folder as the run found it (what a failed new run removes: removeRunLeftovers). */
  folder: FolderBefore;
  /** The options trained with (on a resume: the stored ones with the applied changes). */
  options: TrainOptions;
  data: DataSource;
  prepared: TrainData;
  model: tf.LayersModel;
  step: TrainStep;
  ema: WeightAverage | null;
  schedule: Schedule;
  /** The position and the epoch's running loss; saved in every checkpoint. */
  state: Required<TrainState> & { run: RunRecord };
  /** The step of the checkpoint the run resumed from; null for a new run. */
  resumedAt: number | null;
  /** The options this resume changed. */
  changes: OptionChange[];
}

export interface RunStart {
  /** Continue from the checkpoint in the folder. */
  resume?: boolean;
  /**
   * On a resume, the options asked for (the command line's flags); the others keep their stored
   * values. Default: all of them.
   */
  given?: readonly (keyof TrainOptions)[];
}

/** Throws, naming the data, unless the model takes the data's images and classes. */
function checkFits(model: ModelConfig, data: DataSource): void {
  const { inputSize, inputChannels, classes } = resolveConfig(model);
  if (inputSize !== data.size || inputChannels !== data.channels || classes !== data.classes) {
    throw new Error(
      `${data.name}: the model takes ${inputSize}×${inputSize}×${inputChannels} images and ${classes} classes, ` +
        `the data gives ${data.size}×${data.size}×${data.channels} and ${data.classes} (a folder's size is --image-size)`,
    );
  }
}

/** The options a resume continues with, and its record; throws on refused changes or an epoch count already passed. */
function resumedOptions(
  checkpointPath: string,
  checkpoint: Checkpoint,
  requested: TrainOptions,
  dataName: string,
  given: RunStart['given'],
): { options: TrainOptions; changes: OptionChange[]; record: RunRecord } {
  const stored = checkpoint.state.run as unknown as RunRecord;
  if (stored.data !== dataName) {
    throw new Error(
      `${checkpointPath}: --resume cannot change --data (the run trains on '${stored.data}', asked '${dataName}'); ` +
        `give the run's --data, or train into another --out`,
    );
  }
  const { options, changes } = resumeOptions(
    checkpointPath,
    stored.options,
    requested,
    RESUME_RULES,
    given,
    OPTION_COMPARISON,
  );
  const { step, epoch, batch } = checkpoint.state;
  if (options.epochs < epoch + (batch > 0 ? 1 : 0)) {
    throw new Error(
      `--epochs ${options.epochs}: the run in ${checkpointPath} is at step ${step}, in epoch ${epoch + (batch > 0 ? 1 : 0)}; ` +
        `give at least that many epochs`,
    );
  }
  const history = [...(stored.changes ?? [])];
  if (changes.length) {
    history.push({ step, changed: Object.fromEntries(changes.map((c) => [c.option, [c.from, c.to]])) });
  }
  return { options, changes, record: { options, data: dataName, ...(history.length ? { changes: history } : {}) } };
}

/** Checks, resumes and builds everything a run needs (see the file's comment). */
export async function prepareRun(
  requested: TrainOptions,
  input: LoadedData | DataSource,
  outDir: string,
  { resume = false, given }: RunStart = {},
): Promise<Run> {
  const data = 'prepare' in input ? input : memorySource(input);
  checkOutFolder(outDir);
  const checkpointPath = join(outDir, CHECKPOINT);
  let checkpoint: Checkpoint | null = null;
  if (resume) {
    requireCheckpoint(outDir);
    checkpoint = await readCheckpoint(checkpointPath);
  } else refuseEarlierRun(outDir);
  const resumed = checkpoint ? resumedOptions(checkpointPath, checkpoint, requested, data.name, given) : null;
  const o = resumed?.options ?? requested;
  checkOptions(o);
  checkFits(o.model, data);
  const prepared = await data.prepare({
    validationFraction: o.validationFraction,
    seed: o.seed,
    batchSize: o.batchSize,
    augment: o.augment,
  });
  if (prepared.counts.train < o.batchSize) {
    throw new Error(`batch size ${o.batchSize} is larger than the ${prepared.counts.train} training images`);
  }
  const schedule = epochSchedule(o, prepared.stepsPerEpoch);
  const model = buildModel(o.model, { seed: o.seed });
  const step = makeTrainStep(model, o);
  const ema = o.emaDecay > 0 ? new WeightAverage(model, o.emaDecay) : null;
  const state: Run['state'] = {
    step: 0,
    epoch: 0,
    batch: 0,
    lossSum: 0,
    lossCount: 0,
    cursor: 0,
    skipped: 0,
    run: resumed?.record ?? { options: o, data: data.name },
  };
  if (checkpoint) {
    restoreCheckpoint(checkpointPath, checkpoint, model, step.optimizer, ema);
    const { step: s, epoch, batch, lossSum, lossCount, cursor = batch * o.batchSize, skipped = 0 } = checkpoint.state;
    Object.assign(state, { step: s, epoch, batch, lossSum, lossCount, cursor, skipped });
  }
  const folder = createRunFolder(outDir);
  removeStaleTemporaries(outDir);
  return {
    outDir,
    checkpointPath,
    folder,
    options: o,
    data,
    prepared,
    model,
    step,
    ema,
    schedule,
    state,
    resumedAt: checkpoint ? state.step : null,
    changes: resumed?.changes ?? [],
  };
}

/** Writes the run's checkpoint (weights, optimizer state, weight averages, position, options). */
export function saveRun(run: Run): Promise<void> {
  return writing(run.checkpointPath, 'the checkpoint', () =>
    saveCheckpoint(run.checkpointPath, run.model, run.step.optimizer, run.ema, run.state),
  );
}
