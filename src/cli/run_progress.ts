/**
 * What the classification and detection progress callbacks share: on a terminal a bar with step,
 * epoch, loss, learning rate, images/s, one task metric and ETA; the resume point and the options a
 * resume changed; lines printed above the bar; each skipped item named once; the bar stopped at the end.
 */
import cliProgress from 'cli-progress';
import { describeChanges, type OptionChange } from '../tasks/training/resume_options.js';

export interface BarBegin {
  step: number;
  totalSteps: number;
  resumed: boolean;
  changes: OptionChange[];
}

export interface BarStep {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
}

export abstract class RunProgress {
  protected bar: cliProgress.SingleBar | null = null;
  private readonly named = new Set<string>();

  /** `label` starts the bar; `metric` names the epoch figure it shows; images/s with `ipsDigits` decimals. */
  constructor(
    private readonly label: string,
    private readonly metric: string,
    private readonly ipsDigits: number,
    protected readonly enabled = process.stderr.isTTY,
  ) {}

  /** A line on stderr, above the bar when there is one. */
  protected line(text: string): void {
    process.stderr.write(`${this.bar ? '\n' : ''}${text}\n`);
  }

  /** Prints `text` the first time `key` is seen. */
  protected nameOnce(key: string, text: string): void {
    if (this.named.has(key)) return;
    this.named.add(key);
    this.line(text);
  }

  /** The resume lines, then (on a terminal) the bar from `step`. */
  protected begin({ step, totalSteps, resumed, changes }: BarBegin, ...notes: string[]): void {
    if (resumed) process.stderr.write(`resuming at step ${step} of ${totalSteps}\n`);
    if (changes.length) process.stderr.write(`resuming with changed options: ${describeChanges(changes)}\n`);
    for (const note of notes) process.stderr.write(`${note}\n`);
    if (!this.enabled) return;
    this.bar = new cliProgress.SingleBar(
      {
        format: `${this.label} [{bar}] {value}/{total} | epoch {epoch} | loss {loss} | lr {lr} | {ips} img/s | ${this.metric} {metric} | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalSteps, step, { epoch: '-', loss: '-', lr: '-', ips: '-', metric: '-' });
  }

  protected advance(s: BarStep): void {
    this.bar?.update(s.step, {
      epoch: s.epoch + 1,
      loss: s.loss.toFixed(4),
      lr: s.lr.toExponential(2),
      ips: s.imagesPerSecond.toFixed(this.ipsDigits),
    });
  }

  /** Shows the epoch's figure on the bar; false when there is no bar (the caller prints a line). */
  protected showMetric(value: string): boolean {
    this.bar?.update({ metric: value });
    return this.bar !== null;
  }

  onTrainEnd(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
