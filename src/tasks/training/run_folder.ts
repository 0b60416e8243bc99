/**
 * A training run's folder (`--out`): the files every task writes there, and the checks and
 * clean-up done before a run starts or resumes in it — before anything is written.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolders, siblingOwner, writingSync } from '../../io/files.js';
import { PREVIOUS_CHECKPOINT } from './checkpoint_history.js';

export const CHECKPOINT = 'checkpoint.safetensors';
export const METRICS = 'metrics.jsonl';
export const SUMMARY = 'summary.json';
/** The final model's folder (tfjs model files). */
export const MODEL_DIR = 'model';

/** Files and folders a run replaces atomically, through temporary siblings (io/files.ts siblingName). */
const ATOMIC = [
  CHECKPOINT,
  PREVIOUS_CHECKPOINT,
  MODEL_DIR,
  SUMMARY,
  METRICS,
  'loss.png',
  'loss.vl.json',
  'accuracy.png',
  'accuracy.vl.json',
  'map.png',
  'map.vl.json',
];
/** The tags of those siblings: `tmp` while written, `old` for a model folder being replaced. */
const TEMP_TAGS = ['tmp', 'old'];

/** Throws, naming `--out`, when `dir` exists and is not a folder. */
export function checkOutFolder(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new Error(`--out ${dir}: is a file, not a folder; choose a folder for the run`);
  }
}

/** What in `dir` shows a run was trained there: its checkpoint and its summary, those that exist. */
export function runFiles(dir: string): string[] {
  return [CHECKPOINT, SUMMARY].filter((f) => existsSync(join(dir, f)));
}

/**
 * A new run must not overwrite another: throws, naming `--out` and ending with `advice`, when `dir`
 * holds a checkpoint or a summary.
 */
export function refuseEarlierRun(dir: string, advice = 'continue it with --resume, or train into another --out'): void {
  const found = runFiles(dir);
  if (found.length) throw new Error(`--out ${dir} already holds a training run (${found.join(', ')}); ${advice}`);
}

/** A resume needs a checkpoint: throws, naming the folder, when `dir` has none. */
export function requireCheckpoint(dir: string): void {
  if (!existsSync(dir)) throw new Error(`--resume: --out ${dir} does not exist, so there is no run to continue`);
  if (!existsSync(join(dir, CHECKPOINT))) {
    throw new Error(
      `--resume: --out ${dir} holds no ${CHECKPOINT} to continue from (the run stopped before its first checkpoint, or never ran there); train without --resume to start it`,
    );
  }
}

/** True when process `pid` runs (or exists under another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary siblings of a run's files that an interrupted write left in `dir` (only
 * names of our own pattern, and only of processes no longer running); returns their names.
 */
export function removeStaleTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stale = readdirSync(dir).filter((entry) =>
    ATOMIC.some((name) =>
      TEMP_TAGS.some((tag) => {
        const pid = siblingOwner(entry, name, tag);
        return pid !== null && pid !== process.pid && !running(pid);
      }),
    ),
  );
  for (const entry of stale) rmSync(join(dir, entry), { recursive: true, force: true });
  return stale;
}

/** The run folder as a run found it: the topmost folder the run created (null: it existed) and its entries then. */
export interface FolderBefore {
  created: string | null;
  entries: ReadonlySet<string>;
}

/** Creates `dir` (and its parents) for a run; returns what was there before, for removeRunLeftovers. */
export function createRunFolder(dir: string): FolderBefore {
  const entries = new Set(existsSync(dir) ? readdirSync(dir) : []);
  const created = writingSync(dir, 'into the --out folder', () => makeFolders(dir));
  return { created: created ?? null, entries };
}

/**
 * Removes what a new run that failed before its first checkpoint created — the folders it made, or
 * else the entries that were not in `dir` before (metrics.jsonl, temporary siblings) — so that a
 * failed run leaves either a checkpoint to resume from or nothing.
 */
export function removeRunLeftovers(dir: string, before: FolderBefore): void {
  if (before.created) {
    rmSync(before.created, { recursive: true, force: true });
    return;
  }
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (!before.entries.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}
