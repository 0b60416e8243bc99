/**
 * The full fuzz sweep of the native kernels' guards (test/fuzz/): for each op, `--cases` seeded
 * random cases through the public ops, each on the native and the tfjs cpu backends. Each op
 * runs in a child process, so a crash (a C++ abort, a segfault) is caught: the parent reports
 * the seed and the case that was running, and goes on from the next case.
 *
 *   npx tsx scripts/fuzz.ts [--cases 10000] [--seed 1] [--op conv2d,matMul]
 *   npx tsx scripts/fuzz.ts --op conv2d --seed 1 --case 29     (replays one case, verbose)
 *
 * Exits 1 when any case crashed or failed.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeCase, judge } from '../test/fuzz/harness.js';
import { FUZZ_OPS, type FuzzOp } from '../test/fuzz/ops.js';
import { caseOf, sweep, type Tally } from '../test/fuzz/sweep.js';
import { setup } from '../test/helpers.js';

const { values: args } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    op: { type: 'string' },
    case: { type: 'string' },
    worker: { type: 'string' },
    start: { type: 'string', default: '0' },
  },
});
const seed = Number(args.seed);
const cases = Number(args.cases);
const ops = args.op ? FUZZ_OPS.filter((o) => (args.op as string).split(',').includes(o.name)) : FUZZ_OPS;
if (ops.length === 0) throw new Error(`--op: none of ${args.op} is one of ${FUZZ_OPS.map((o) => o.name).join(', ')}`);

/** Child: cases start..cases-1 of one op; "case i" before each, "tally {json}" at the end. */
async function worker(op: FuzzOp, start: number): Promise<void> {
  await setup();
  const tally = await sweep(op, seed, start, cases, (c) => writeSync(1, `case ${c.index}\n`));
  const failures = tally.failures.map((f) => ({ fuzzCase: describeCase(f.fuzzCase), verdict: f.verdict }));
  writeSync(1, `tally ${JSON.stringify({ ...tally, failures })}\n`);
}

interface ChildResult {
  tally?: Omit<Tally, 'failures'> & { failures: { fuzzCase: string; verdict: unknown }[] };
  lastCase: number;
  exit: string;
}

function runChild(op: FuzzOp, start: number): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const argv = [...process.execArgv, script, '--worker', op.name, '--seed', `${seed}`, '--cases', `${cases}`];
  const child = spawn(process.execPath, [...argv, '--start', `${start}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const result: ChildResult = { lastCase: start - 1, exit: '' };
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('case ')) result.lastCase = Number(line.slice(5));
      else if (line.startsWith('tally ')) result.tally = JSON.parse(line.slice(6));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      result.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      if (!result.tally) result.exit += `\n${stderr}`;
      resolve(result);
    });
  });
}

/** All cases of one op, restarting after the case that crashed its child. */
async function sweepOp(op: FuzzOp): Promise<{ tally: Tally; crashes: string[]; failures: string[] }> {
  const total: Tally = { cases: 0, matched: 0, refused: 0, failures: [] };
  const crashes: string[] = [];
  const failures: string[] = [];
  for (let start = 0; start < cases; ) {
    const r = await runChild(op, start);
    if (r.tally) {
      total.cases += r.tally.cases;
      total.matched += r.tally.matched;
      total.refused += r.tally.refused;
      for (const f of r.tally.failures) failures.push(`${JSON.stringify(f.verdict)}\n    ${f.fuzzCase}`);
      break;
    }
    const crashed = r.lastCase;
    crashes.push(`crash (${r.exit}) in case ${crashed}:\n    ${describeCase(caseOf(op, seed, crashed))}`);
    total.cases += crashed - start + 1;
    start = crashed + 1;
  }
  return { tally: total, crashes, failures };
}

async function replay(op: FuzzOp, index: number): Promise<void> {
  await setup();
  const c = caseOf(op, seed, index);
  console.log(describeCase(c));
  console.log(JSON.stringify(await judge(c, op.run, op.slack)));
}

async function main(): Promise<void> {
  if (args.worker) return worker(FUZZ_OPS.find((o) => o.name === args.worker) as FuzzOp, Number(args.start));
  if (args.case !== undefined) return replay(ops[0], Number(args.case));
  let bad = 0;
  const started = performance.now();
  console.log(`fuzz: ${cases} cases per op, seed ${seed}`);
  for (const op of ops) {
    const t0 = performance.now();
    const { tally, crashes, failures } = await sweepOp(op);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `${op.name.padEnd(24)} ${tally.cases} cases: ${tally.matched} matched, ${tally.refused} refused, ` +
        `${failures.length} failed, ${crashes.length} crashed (${seconds} s)`,
    );
    for (const line of [...crashes, ...failures].slice(0, 10)) console.log(`  ${line}`);
    bad += crashes.length + failures.length;
  }
  console.log(`fuzz: ${((performance.now() - started) / 1000).toFixed(0)} s in all, ${bad} failures`);
  if (bad > 0) process.exitCode = 1;
}

await main();
