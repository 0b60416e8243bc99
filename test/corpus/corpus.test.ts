/**
 * The bad-input corpus (issue 19): every case of cases.ts run through the CLI in-process (runCli, as
 * src/cli/main.ts runs it, in one child process: worker.ts) on the files fixtures.ts writes into a fresh folder. Each must exit 1 with
 * `sasa: error: …` naming what cases.ts says, print no stack trace, and leave every file of the corpus
 * (output folders included) as it was: nothing created, half-written or stale. Two cases also go
 * through the real executable. README.md's table must be the one scripts/corpus-table.ts prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORPUS, type CorpusCase, resolve } from './cases.js';
import { startWorker } from './cli_worker.js';
import { writeFixtures } from './fixtures.js';
import { type Mounts, makeMounts, removeMounts } from './mounts.js';
import { snapshot } from './run_case.js';
import { corpusTable } from './table.js';

const root = mkdtempSync(join(tmpdir(), 'sasa-corpus-'));
let paths: Record<string, string> = {};
let mounts: Mounts | null = null;
let state: string[] = [];
const worker = startWorker();

before(async () => {
  paths = await writeFixtures(root, worker.run);
  mkdirSync(paths.scratch);
  const made = makeMounts(root);
  assert.ok('full' in made, `the corpus's full and read-only disks need mount(8) as root: ${JSON.stringify(made)}`);
  mounts = made;
  paths = { ...paths, ...made };
  state = snapshot(root);
});

after(() => {
  worker.stop();
  if (mounts) removeMounts(mounts);
  rmSync(root, { recursive: true, force: true });
});

/** Runs `c` in the CLI worker; returns its exit code and output. */
const run = (c: CorpusCase) =>
  worker.run(
    c.args.map((a) => resolve(a, paths)),
    c.env,
  );

/** Removes what a failed case added to the corpus (so that the cases after it start from the same files). */
function restore(now: string[]): void {
  const before = new Set(state);
  for (const line of now.filter((l) => !before.has(l)).reverse()) {
    const path = line.replace(/( -> .*|\/| \d+ [\d.]+)$/, '');
    if (!state.some((l) => l.startsWith(`${path} `) || l.startsWith(`${path}/`) || l.startsWith(`${path} ->`))) {
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/** The checks every case must pass, given its exit code and output. */
function check(c: CorpusCase, r: { code: number; stdout: string; stderr: string }): void {
  const shown = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 1, `exit code ${r.code}\n${shown}`);
  assert.match(r.stderr, /^sasa: error: /m, shown);
  assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /^\s+at /m, `a stack trace\n${shown}`);
  for (const name of c.names) assert.ok(r.stderr.includes(resolve(name, paths)), `not named: ${name}\n${shown}`);
}

describe('the bad-input corpus', () => {
  for (const c of CORPUS) {
    it(c.id, { timeout: 60_000 }, async () => {
      const r = await run(c);
      const now = snapshot(root);
      restore(now);
      check(c, r);
      assert.deepEqual(now, state, `${c.id} changed the corpus's files`);
    });
  }

  it('the real executable prints and exits as runCli does', () => {
    for (const id of ['args-unknown-option', 'model-nan-weights']) {
      const c = CORPUS.find((x) => x.id === id) as CorpusCase;
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...c.args.map((a) => resolve(a, paths))],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      check(c, { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
    }
    assert.deepEqual(snapshot(root), state);
  });

  it('has at least 80 cases with unique ids, and README.md holds their table', () => {
    assert.ok(CORPUS.length >= 80, `${CORPUS.length} cases`);
    assert.equal(new Set(CORPUS.map((c) => c.id)).size, CORPUS.length);
    assert.ok(readFileSync('README.md', 'utf8').includes(corpusTable()), 'run npx tsx scripts/corpus-table.ts --write');
  });
});
