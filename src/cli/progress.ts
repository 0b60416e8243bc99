/** A progress bar on stderr when it is a terminal; silent otherwise (logs, pipes, --json). */
import cliProgress from 'cli-progress';
import type { TrainHooks } from '../tasks/classification/trainer.js';

export interface Progress {
  tick(payload?: Record<string, string | number>): void;
  stop(): void;
}

export function progressBar(label: string, total: number, enabled = process.stderr.isTTY): Progress {
  if (!enabled) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    tick(payload) {
      bar.increment(1, payload);
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * Training progress: on a terminal a bar with loss, learning rate, images/s and ETA; elsewhere one
 * line per epoch (and the resume point), so logs stay readable. Files a streamed source skips are
 * named once each, and each epoch's count of them is printed with the epoch.
 */
export function trainingProgress(enabled = process.stderr.isTTY): { hooks: TrainHooks; stop(): void } {
  let bar: cliProgress.SingleBar | null = null;
  const named = new Set<string>();
  const line = (text: string) => process.stderr.write(`${bar ? '\n' : ''}${text}\n`);
  const hooks: TrainHooks = {
    onSkip(file, split) {
      if (named.has(file.path)) return;
      named.add(file.path);
      line(`skipped ${file.path} (${split}): ${file.reason}`);
    },
    onStart({ step, totalSteps, resumed }) {
      if (resumed) process.stderr.write(`resuming at step ${step} of ${totalSteps}\n`);
      if (!enabled) return;
      bar = new cliProgress.SingleBar(
        {
          format:
            'train [{bar}] {value}/{total} | epoch {epoch} | loss {loss} | lr {lr} | {ips} img/s | val {val} | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalSteps, step, { epoch: '-', loss: '-', lr: '-', ips: '-', val: '-' });
    },
    onStep(i) {
      bar?.update(i.step, {
        epoch: i.epoch + 1,
        loss: i.loss.toFixed(4),
        lr: i.lr.toExponential(2),
        ips: i.imagesPerSecond.toFixed(0),
      });
    },
    onEpoch(e) {
      const top1 = e.validation ? `${(100 * e.validation.top1).toFixed(2)} %` : 'n/a';
      const n = e.skipped + e.validationSkipped;
      const skipped = n
        ? `, ${n} unreadable file${n > 1 ? 's' : ''} skipped (${e.validationSkipped} in validation)`
        : '';
      if (bar) {
        bar.update({ val: top1 });
        if (skipped) line(`epoch ${e.epoch + 1}${skipped}`);
      } else line(`epoch ${e.epoch + 1}: train loss ${e.trainLoss.toFixed(4)}, validation top-1 ${top1}${skipped}`);
    },
  };
  return {
    hooks,
    stop() {
      bar?.stop();
    },
  };
}
