/**
 * The metrics log as a callback: one JSON line per batch and per epoch appended to a file
 * (metrics.jsonl). The task says what a line holds; each record carries the optimizer `step` it
 * was written at, so a resumed run drops the lines logged after its checkpoint and logs them again.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writingSync } from '../../io/files.js';
import type { TrainingCallback } from './callbacks.js';

export type MetricsRecord = { type: string; step: number } & Record<string, unknown>;

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
   * Starts the log: empty for a new run; for a run resumed at `step`, without the lines past it and
   * without a 'resume' line at it (that resume is being done again).
   */
  start(resumedAt: number | null): void {
    writingSync(this.path, 'the metrics log', () =>
      resumedAt === null ? writeFileSync(this.path, '') : truncateMetrics(this.path, resumedAt),
    );
  }

  append(record: MetricsRecord): void {
    writingSync(this.path, 'the metrics log', () => appendFileSync(this.path, `${JSON.stringify(record)}\n`));
  }

  onBatchEnd(_batch: number, logs: Batch): void {
    this.append(this.records.batch(logs));
  }

  onEpochEnd(_epoch: number, logs: Epoch): void {
    this.append(this.records.epoch(logs));
  }
}

/** Keeps the lines of `path` logged up to `step` (a 'resume' line only before it); drops unreadable ones. */
export function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const r = JSON.parse(line) as MetricsRecord;
        return r.type === 'resume' ? r.step < step : r.step <= step;
      } catch {
        return false;
      }
    });
  writeFileSync(path, keep.map((l) => `${l}\n`).join(''));
}
