/** The parent's side of worker.ts: a child process that runs `sasa` command lines one at a time. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Reply, Request } from './worker.js';

export type Sasa = (args: string[], env?: Record<string, string>) => Promise<Reply>;

/** Starts a worker; `run` sends a command line and resolves to its exit code and output. */
export function startWorker(): { run: Sasa; stop: () => void } {
  const child: ChildProcess = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, (r: Reply) => void>();
  let failed: Error | null = null;
  child.on('message', (r: Reply) => {
    waiting.get(r.id)?.(r);
    waiting.delete(r.id);
  });
  let output = '';
  child.stderr?.on('data', (d) => {
    output += d;
  });
  child.on('exit', (code, signal) => {
    failed = new Error(`the CLI worker exited (code ${code}, signal ${signal}):\n${output}`);
    for (const resolve of waiting.values()) resolve({ id: -1, code: -1, stdout: '', stderr: failed.message });
    waiting.clear();
  });
  const run: Sasa = (args, env) =>
    new Promise((resolve) => {
      if (failed) return resolve({ id: -1, code: -1, stdout: '', stderr: failed.message });
      const id = next++;
      waiting.set(id, resolve);
      child.send({ id, args, env } satisfies Request);
    });
  return { run, stop: () => child.kill() };
}
