/**
 * Runs several `sasa train` commands at once, each in a child process with its share of the
 * threads, and follows each run's metrics.jsonl for progress: one bar per run on a terminal, one
 * line per epoch elsewhere. Small models train faster as two single-threaded processes than one
 * after the other on two threads (BENCHMARKS.md, demo models), which is how `sasa demo` uses it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { METRICS } from '../tasks/training/run_folder.js';

export interface ChildRun {
  /** Name on the progress bar and in errors. */
  label: string;
  /** The run's --out directory; its log goes to `out/train.log`. */
  out: string;
  /** Arguments after `sasa train` (must include --out). */
  args: string[];
  /** Steps the run will take, for the bar. */
  totalSteps: number;
}

interface MetricLine {
  type: string;
  step: number;
  epoch: number;
  loss?: number;
  images_per_s?: number;
  train_loss?: number;
  val_top1?: number;
}

/** Reads whole new lines appended to a file since the last call. */
class LineFollower {
  private offset = 0;
  private rest = '';
  constructor(private readonly path: string) {}
  lines(): string[] {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, 'r');
    try {
      const chunks: Buffer[] = [];
      const buf = Buffer.alloc(1 << 16);
      for (
        let n = readSync(fd, buf, 0, buf.length, this.offset);
        n > 0;
        n = readSync(fd, buf, 0, buf.length, this.offset)
      ) {
        chunks.push(Buffer.from(buf.subarray(0, n)));
        this.offset += n;
      }
      const text = this.rest + Buffer.concat(chunks).toString('utf8');
      const parts = text.split('\n');
      this.rest = parts.pop() ?? '';
      return parts.filter((l) => l.trim());
    } finally {
      closeSync(fd);
    }
  }
}

function logTail(path: string, lines = 15): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** The command that runs this CLI again (the same node flags, so it also works under tsx). */
function cliCommand(): { node: string; prefix: string[] } {
  return { node: process.execPath, prefix: [...process.execArgv, process.argv[1]] };
}

/**
 * Starts every run with `threadsEach` native threads and resolves when all have finished; if one
 * fails, the others are stopped and the error names the run and its log, with the log's tail.
 */
export async function trainSideBySide(
  runs: ChildRun[],
  threadsEach: number,
  tty = process.stderr.isTTY,
): Promise<void> {
  const { node, prefix } = cliCommand();
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          format:
            '{label} [{bar}] {value}/{total} | epoch {epoch} | loss {loss} | {ips} img/s | val {val} | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const width = Math.max(...runs.map((r) => r.label.length));
  const children: ChildProcess[] = [];
  const followers = runs.map((run) => {
    mkdirSync(run.out, { recursive: true });
    rmSync(join(run.out, METRICS), { force: true });
    const log = openSync(join(run.out, 'train.log'), 'w');
    const child = spawn(node, [...prefix, 'train', ...run.args], {
      env: { ...process.env, SASA_NUM_THREADS: String(threadsEach) },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    children.push(child);
    const bar = multi?.create(run.totalSteps, 0, {
      label: run.label.padEnd(width),
      epoch: '-',
      loss: '-',
      ips: '-',
      val: '-',
    });
    let ips = 0;
    const follower = new LineFollower(join(run.out, METRICS));
    return () => {
      for (const line of follower.lines()) {
        let m: MetricLine;
        try {
          m = JSON.parse(line) as MetricLine;
        } catch {
          continue;
        }
        if (m.type === 'step') {
          ips = ips ? 0.95 * ips + 0.05 * (m.images_per_s ?? 0) : (m.images_per_s ?? 0);
          bar?.update(m.step, { epoch: m.epoch + 1, loss: (m.loss ?? 0).toFixed(4), ips: ips.toFixed(0) });
        } else if (m.type === 'epoch') {
          const val = m.val_top1 === undefined ? 'n/a' : `${(100 * m.val_top1).toFixed(2)} %`;
          if (bar) bar.update({ val });
          else
            process.stderr.write(
              `${run.label}: epoch ${m.epoch + 1}, train loss ${(m.train_loss ?? Number.NaN).toFixed(4)}, validation top-1 ${val}\n`,
            );
        }
      }
    };
  });
  const poll = () => {
    for (const follow of followers) follow();
  };
  const timer = setInterval(poll, 500);
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.once('exit', stopAll);
  try {
    await Promise.all(
      children.map(
        (child, i) =>
          new Promise<void>((resolve, reject) => {
            child.once('error', (err) => reject(new Error(`${runs[i].label}: could not start: ${err.message}`)));
            child.once('exit', (code, signal) => {
              if (code === 0) return resolve();
              const logPath = join(runs[i].out, 'train.log');
              reject(
                new Error(
                  `${runs[i].label} stopped (${signal ?? `exit code ${code}`}); its log is ${logPath}:\n${logTail(logPath)}`,
                ),
              );
            });
          }),
      ),
    );
  } catch (err) {
    stopAll();
    throw err;
  } finally {
    clearInterval(timer);
    poll();
    multi?.stop();
    process.removeListener('exit', stopAll);
  }
}
