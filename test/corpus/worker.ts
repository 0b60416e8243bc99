/**
 * A child process that runs `sasa` command lines in-process (runCli) on request, with their output
 * captured: the parent sends `{ id, argv, env }` over IPC and gets `{ id, code, stdout, stderr }`
 * back. Capturing happens here, away from the test runner's own stdout.
 */
import { runCli } from '../../src/cli/program.js';
import { quietly } from './run_case.js';

export interface Request {
  id: number;
  args: string[];
  env?: Record<string, string>;
}

export interface Reply {
  id: number;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one request with its environment variables set for its duration. */
async function handle({ id, args, env = {} }: Request): Promise<Reply> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const r = await quietly(() => runCli(['node', 'sasa', ...args]));
    return { id, ...r };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let queue = Promise.resolve();
process.on('message', (request: Request) => {
  queue = queue.then(async () => {
    process.send?.(await handle(request));
  });
});
