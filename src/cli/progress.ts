/** A progress bar on stderr when it is a terminal; silent otherwise (logs, pipes, --json). */
import cliProgress from 'cli-progress';

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
