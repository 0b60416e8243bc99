/**
 * The metrics log as a callback: one JSON line per batch and per epoch appended to a file
 * (metrics.jsonl). The task says what a line holds; each record carries the optimizer `step` it
 * was written at, so a resumed run drops the lines logged after its checkpoint and logs them again.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { writeFileAtomicSync, writingSync } from '../../io/files.js';
import { killPoint } from '../../io/kill_point.js';
import type { TrainingCallback } from './callbacks.js';

export type MetricsRecord = { type: string; step: number } & Record<string, unknown>;

/** Where a resumed run continues: the optimizer step and the epoch of its checkpoint. */
export interface ResumedAt {
  step: number;
  epoch: number;
}

export interface MetricsRecords<Batch, Epoch> {
  batch(logs: Batch): MetricsRecord;
  epoch(logs: Epoch): MetricsRecord;
}

export class MetricsLog<Batch, Epoch> implements TrainingCallback<unknown, Batch, Epoch, unknown> {
  constructor(
    readonly path: string,
    private readonly records: MetricsRecords<Batch, Epoch>,
  ) {}

  /**
   * Starts the log: empty for a new run; for a run resumed at `resumedAt`, without the lines past its
   * step, without a 'resume' line at it (that resume is being done again) and without the epoch line
   * of its epoch (a checkpoint at an epoch's last step, before the epoch ended, closes it again).
   */
  start(resumedAt: ResumedAt | null): void {
    writingSync(this.path, 'the metrics log', () =>
      resumedAt === null ? writeFileSync(this.path, '') : truncateMetrics(this.path, resumedAt),
    );
  }

  /** Appends one line (in two writes, with the test-only kill point between them). */
  append(record: MetricsRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    const half = line.length >> 1;
    writingSync(this.path, 'the metrics log', () => {
      appendFileSync(this.path, line.slice(0, half));
      killPoint(basename(this.path));
      appendFileSync(this.path, line.slice(half));
    });
  }

  onBatchEnd(_batch: number, logs: Batch): void {
    this.append(this.records.batch(logs));
  }

  onEpochEnd(_epoch: number, logs: Epoch): void {
    this.append(this.records.epoch(logs));
  }
}

/**
 * Keeps the lines of `path` logged up to `at.step` (a 'resume' line only before it, an 'epoch' line only
 * of an epoch before `at.epoch`); drops unreadable ones. Rewrites the file atomically.
 */
export function truncateMetrics(path: string, at: ResumedAt): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const r = JSON.parse(line) as MetricsRecord;
        if (r.type === 'resume') return r.step < at.step;
        if (r.type === 'epoch') return r.step <= at.step && (r.epoch as number) < at.epoch;
        return r.step <= at.step;
      } catch {
        return false;
      }
    });
  writeFileAtomicSync(path, keep.map((l) => `${l}\n`).join(''));
}
