/** A detection run's curves from its metrics.jsonl: loss.png (per step, with its two parts) and map.png (validation AP, AP50 per epoch). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { linePlot, writePng } from '../../viz/plots.js';
import { METRICS } from '../training/run_folder.js';

interface Line {
  type: 'step' | 'epoch' | 'resume';
  step: number;
  epoch: number;
  loss?: number;
  classification?: number;
  box_regression?: number;
  val_ap?: number | null;
  val_ap50?: number | null;
}

type Points = [number, number][];

/** Writes loss.png and (with validation figures) map.png into `outDir`; returns their paths. */
export async function writeDetectionCurves(outDir: string, title: string): Promise<string[]> {
  const lines = readFileSync(join(outDir, METRICS), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Line);
  const steps = lines.filter((l) => l.type === 'step');
  const epochs = lines.filter((l) => l.type === 'epoch' && typeof l.val_ap === 'number');
  const written: string[] = [];
  const of = (rows: Line[], x: (l: Line) => number, y: (l: Line) => number | null | undefined): Points =>
    rows.map((l) => [x(l), y(l) ?? Number.NaN]);
  if (steps.length) {
    const path = join(outDir, 'loss.png');
    const series = [
      {
        name: 'loss',
        points: of(
          steps,
          (l) => l.step,
          (l) => l.loss,
        ),
      },
      {
        name: 'classification (focal)',
        points: of(
          steps,
          (l) => l.step,
          (l) => l.classification,
        ),
      },
      {
        name: 'box regression (L1)',
        points: of(
          steps,
          (l) => l.step,
          (l) => l.box_regression,
        ),
      },
    ];
    await writePng(path, linePlot({ title: `${title}: training loss`, xLabel: 'step', yLabel: 'loss', series }));
    written.push(path);
  }
  if (epochs.length) {
    const path = join(outDir, 'map.png');
    const series = [
      {
        name: 'AP (IoU .50:.95)',
        points: of(
          epochs,
          (l) => l.epoch + 1,
          (l) => l.val_ap,
        ),
      },
      {
        name: 'AP50',
        points: of(
          epochs,
          (l) => l.epoch + 1,
          (l) => l.val_ap50,
        ),
      },
    ];
    await writePng(path, linePlot({ title: `${title}: validation mAP`, xLabel: 'epoch', yLabel: 'AP', series }));
    written.push(path);
  }
  return written;
}
