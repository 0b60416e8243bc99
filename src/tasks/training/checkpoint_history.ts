/**
 * The run's checkpoint and the one before it: before a checkpoint at a new step replaces
 * `checkpoint.safetensors`, the old one is kept as `checkpoint.previous.safetensors` (a hard link,
 * renamed into place atomically). A loss that blows up at step s was computed with the weights of
 * step s − 1; when the checkpoint holds those, the divergence stop puts the previous one back.
 */
import { copyFileSync, existsSync, linkSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { siblingName } from '../../io/files.js';

export const PREVIOUS_CHECKPOINT = 'checkpoint.previous.safetensors';

/** What the checkpoint on disk is after a blow-up: untouched, the previous one put back, or none. */
export type Rollback = 'kept' | 'previous' | 'removed';

export class CheckpointHistory {
  readonly previousPath: string;
  /** The step of the checkpoint on disk (null: none yet). */
  private savedAt: number | null;

  constructor(
    readonly path: string,
    resumedAt: number | null,
  ) {
    this.previousPath = join(dirname(path), PREVIOUS_CHECKPOINT);
    this.savedAt = resumedAt;
  }

  /** Writes the checkpoint of `step` with `write`, keeping the one of an earlier step as the previous. */
  async save(step: number, write: () => Promise<void>): Promise<void> {
    if (this.savedAt !== null && this.savedAt !== step && existsSync(this.path))
      keepAsPrevious(this.path, this.previousPath);
    await write();
    this.savedAt = step;
  }

  /**
   * The loss of `step` blew up: a checkpoint of step − 1 (or later) holds the weights that made it, so
   * the previous checkpoint replaces it, or, without one, it is removed.
   */
  rollBack(step: number): Rollback {
    if (this.savedAt === null || this.savedAt < step - 1 || !existsSync(this.path)) return 'kept';
    if (existsSync(this.previousPath)) {
      renameSync(this.previousPath, this.path);
      this.savedAt = null;
      return 'previous';
    }
    rmSync(this.path);
    this.savedAt = null;
    return 'removed';
  }
}

/** `previous` becomes a copy of `path` (a hard link where the file system has them), atomically. */
function keepAsPrevious(path: string, previous: string): void {
  const tmp = siblingName(previous, 'tmp');
  try {
    linkSync(path, tmp);
  } catch {
    copyFileSync(path, tmp);
  }
  renameSync(tmp, previous);
  // rename does nothing when `previous` is already a link to the same file (a resumed run's first save)
  rmSync(tmp, { force: true });
}
