/**
 * Training checkpoints: one safetensors file written atomically (temporary file + rename), so a
 * crash leaves the previous checkpoint intact. Tensors: `model/<weight>` (every weight, batch-norm
 * statistics included), the optimizer's state `<group>/<weight>` (SGD's `velocity`; AdamW's `adam_m`,
 * `adam_v`, `adam_step`: training/optimizer_state.ts), `ema/<weight>` (the weight average);
 * metadata `sasa`: the JSON training state (step, epoch, batch within the epoch, configuration).
 */

import {
  readSafetensors,
  readSafetensorsMetadata,
  type SafetensorsInput,
  writeSafetensors,
} from '../../io/safetensors.js';
import * as tf from '../../tf.js';
import type { StatefulOptimizer } from '../training/optimizer_state.js';
import type { WeightAverage } from './ema.js';

/**
 * The training state a checkpoint stores (its `sasa` metadata, as JSON): where training continues, the
 * current epoch's losses so far, and what the run needs to continue.
 */
export interface TrainState {
  /** Optimizer steps taken. */
  step: number;
  /** The epoch (0-based) and the batch within it where training continues. */
  epoch: number;
  batch: number;
  /**
   * Position in the epoch's order where it continues (the last batch's `next`; files skipped by a
   * streamed source shift it from batch × batch size). Absent in older checkpoints: batch × batch size.
   */
  cursor?: number;
  /** Files skipped so far in the current epoch. */
  skipped?: number;
  /** Sum and count of the losses of the current epoch so far (its mean is logged at the end). */
  lossSum: number;
  lossCount: number;
  /** Whatever the trainer needs to continue exactly (model config, options, data description). */
  run: Record<string, unknown>;
}

/**
 * A checkpoint as {@link readCheckpoint} reads it: the training state, and per weight name the model's
 * weights, the optimizer's state by group, the weight averages (flat float32, row-major) and the weights' shapes.
 */
export interface Checkpoint {
  state: TrainState;
  model: Map<string, Float32Array>;
  /** Optimizer state group (`velocity`, `adam_m`, …) → weight name → values. */
  optimizer: Map<string, Map<string, Float32Array>>;
  ema: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  /** Shapes of the optimizer's tensors, by `<group>/<weight>`. */
  optimizerShapes: Map<string, number[]>;
}

function entry(prefix: string, name: string, t: tf.Tensor): SafetensorsInput {
  return { name: `${prefix}/${name}`, shape: t.shape, data: t.dataSync() as Float32Array };
}

export async function saveCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: StatefulOptimizer,
  ema: WeightAverage | null,
  state: TrainState,
): Promise<void> {
  const weights = model.weights;
  const tensors: SafetensorsInput[] = weights.map((w) => entry('model', w.originalName, w.read()));
  for (const group of optimizer.groups) {
    for (const [name, v] of optimizer.state.get(group) ?? []) tensors.push(entry(group, name, v));
  }
  if (ema) for (const [i, w] of weights.entries()) tensors.push(entry('ema', w.originalName, ema.shadow[i]));
  await writeSafetensors(path, tensors, { sasa: JSON.stringify(state) });
}

/** The name of the model a checkpoint trains (from its header alone); null when it cannot be read. */
export async function checkpointModelName(path: string): Promise<string | null> {
  try {
    const state = JSON.parse((await readSafetensorsMetadata(path)).sasa ?? 'null') as TrainState | null;
    const name = (state?.run?.options as { model?: { name?: unknown } } | undefined)?.model?.name;
    return typeof name === 'string' ? name : null;
  } catch {
    return null; // readCheckpoint names what is wrong with it
  }
}

/** Reads the checkpoint at `path` (tensors by name and the training state); errors name the file and the tensor. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const file = await readSafetensors(path);
  const raw = file.metadata.sasa;
  if (!raw) throw new Error(`${path}: not a sasa training checkpoint (no 'sasa' metadata)`);
  let state: TrainState;
  try {
    state = JSON.parse(raw) as TrainState;
  } catch (err) {
    throw new Error(`${path}: the checkpoint's training state is not valid JSON (${(err as Error).message})`);
  }
  const ck: Checkpoint = {
    state,
    model: new Map(),
    optimizer: new Map(),
    ema: new Map(),
    shapes: new Map(),
    optimizerShapes: new Map(),
  };
  for (const [name, t] of file.tensors) {
    const slash = name.indexOf('/');
    if (slash <= 0) throw new Error(`${path}: unexpected tensor '${name}' (not <group>/<weight>)`);
    const group = name.slice(0, slash);
    const weight = name.slice(slash + 1);
    if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${name}' has dtype ${t.dtype}, expected F32`);
    const data = t.data as Float32Array;
    if (group === 'model') {
      ck.model.set(weight, data);
      ck.shapes.set(weight, t.shape);
    } else if (group === 'ema') ck.ema.set(weight, data);
    else {
      if (!ck.optimizer.has(group)) ck.optimizer.set(group, new Map());
      ck.optimizer.get(group)?.set(weight, data);
      ck.optimizerShapes.set(name, t.shape);
    }
  }
  return ck;
}

/**
 * Checks that a checkpoint holds exactly this model's weights; the error names the file and the
 * mismatched weights (missing, unexpected, or of another shape).
 */
export function checkCompatible(path: string, ck: Checkpoint, model: tf.LayersModel): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const w of model.weights) {
    names.add(w.originalName);
    const shape = ck.shapes.get(w.originalName);
    if (!shape) problems.push(`'${w.originalName}' missing`);
    else if (shape.join() !== w.shape.join()) {
      problems.push(`'${w.originalName}' is [${shape}] in the checkpoint, [${w.shape}] in the model`);
    }
  }
  for (const name of ck.shapes.keys()) if (!names.has(name)) problems.push(`'${name}' not in the model`);
  if (problems.length) {
    const shown = problems.slice(0, 8).join('; ');
    throw new Error(
      `${path}: the checkpoint is from another model (${problems.length} mismatched weights: ${shown}${problems.length > 8 ? '; …' : ''})`,
    );
  }
}

/** Refuses optimizer state of groups `optimizer` does not keep (a run trained with another optimizer). */
function checkOptimizerGroups(path: string, ck: Checkpoint, optimizer: StatefulOptimizer): void {
  const foreign = [...ck.optimizer.keys()].filter((g) => !optimizer.groups.includes(g));
  if (foreign.length) {
    throw new Error(
      `${path}: the checkpoint holds optimizer state '${foreign.join("', '")}', which this run's optimizer (${optimizer.groups.join(', ')}) does not keep: it was trained with another optimizer`,
    );
  }
}

/** Puts the checkpoint's weights, optimizer state and weight averages into place. */
export function restoreCheckpoint(
  path: string,
  ck: Checkpoint,
  model: tf.LayersModel,
  optimizer: StatefulOptimizer,
  ema: WeightAverage | null,
): void {
  checkCompatible(path, ck, model);
  checkOptimizerGroups(path, ck, optimizer);
  const tensor = (data: Float32Array, w: tf.LayerVariable) => tf.tensor(data, w.shape as number[], 'float32');
  const values = model.weights.map((w) => tensor(ck.model.get(w.originalName) as Float32Array, w));
  model.setWeights(values);
  tf.dispose(values);
  optimizer.dispose();
  for (const group of optimizer.groups) {
    const stored = ck.optimizer.get(group);
    const target = optimizer.state.get(group);
    if (!stored || !target) continue;
    for (const w of model.trainableWeights) {
      const v = stored.get(w.originalName);
      const shape = ck.optimizerShapes.get(`${group}/${w.originalName}`) ?? (w.shape as number[]);
      if (v) target.set(w.originalName, tf.keep(tf.tensor(v, shape, 'float32')));
    }
  }
  if (ema) {
    model.weights.forEach((w, i) => {
      const shadow = ck.ema.get(w.originalName);
      if (!shadow) throw new Error(`${path}: the checkpoint has no weight average for '${w.originalName}'`);
      ema.shadow[i].dispose();
      ema.shadow[i] = tf.keep(tensor(shadow, w));
    });
  }
}
