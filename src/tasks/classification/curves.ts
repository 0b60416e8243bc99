/**
 * Training curves from metrics.jsonl as PNG: loss (per step and per epoch) and validation accuracy;
 * and the curves writer, a callback that draws them at the end of a run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writing } from '../../io/files.js';
import { linePlot, writePng } from '../../viz/plots.js';
import { METRICS } from '../training/run_folder.js';
import type { ClassificationCallback, TrainBeginLogs } from './callbacks.js';

interface Line {
  type: 'step' | 'epoch' | 'resume';
  step: number;
  epoch: number;
  loss?: number;
  train_loss?: number;
  val_loss?: number;
  val_top1?: number;
}

/** Writes loss.png and accuracy.png (when there is validation) into `outDir`; returns their paths. */
export async function writeCurves(metricsPath: string, outDir: string, title: string): Promise<string[]> {
  const lines = readFileSync(metricsPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);
  const steps = lines.filter((l) => l.type === 'step');
  const epochs = lines.filter((l) => l.type === 'epoch');
  const written: string[] = [];
  if (steps.length) {
    const series = [
      { name: 'train loss (step)', points: steps.map((l) => [l.step, l.loss ?? Number.NaN] as [number, number]) },
      {
        name: 'train loss (epoch mean)',
        points: epochs.map((l) => [l.step, l.train_loss ?? Number.NaN] as [number, number]),
      },
    ];
    if (epochs.some((l) => l.val_loss !== undefined)) {
      series.push({ name: 'validation loss', points: epochs.map((l) => [l.step, l.val_loss ?? Number.NaN]) });
    }
    const path = join(outDir, 'loss.png');
    await writePng(path, linePlot({ title: `${title}: loss`, xLabel: 'step', yLabel: 'loss', series }));
    written.push(path);
  }
  if (epochs.some((l) => l.val_top1 !== undefined)) {
    const path = join(outDir, 'accuracy.png');
    const points = epochs.map((l) => [l.epoch + 1, 100 * (l.val_top1 ?? Number.NaN)] as [number, number]);
    await writePng(
      path,
      linePlot({
        title: `${title}: validation accuracy`,
        xLabel: 'epoch',
        yLabel: 'top-1 %',
        series: [{ name: 'validation top-1', points }],
      }),
    );
    written.push(path);
  }
  return written;
}

/**
 * Writes a run's curves into its folder when training ends; `written` then holds their paths. The
 * title defaults to the name of the model the run trains.
 */
export class CurvesWriter implements ClassificationCallback {
  written: string[] = [];

  constructor(
    private readonly outDir: string,
    private title?: string,
  ) {}

  onTrainBegin({ options }: TrainBeginLogs): void {
    this.title ??= options.model.name ?? 'model';
  }

  async onTrainEnd(): Promise<void> {
    const write = () => writeCurves(join(this.outDir, METRICS), this.outDir, this.title ?? 'model');
    this.written = await writing(this.outDir, 'the loss and accuracy curves', write);
  }
}
