/**
 * The bad-input corpus (issue 19): every case of cases.ts run through the CLI in-process (runCli, as
 * src/cli/main.ts runs it, in one child process: worker.ts) on the files fixtures.ts writes into a
 * fresh folder. Each must exit 1 with `sasa: error: …` naming what cases.ts says, print no stack
 * trace, and leave every file of the corpus (output folders included) as it was: nothing created,
 * half-written or stale. Two cases also go through the real executable. README.md's tables must be
 * the ones the cases' messages make (scripts/corpus-table.ts --write).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CORPUS, type CorpusCase, resolve } from './cases.js';
import { type Corpus, openCorpus } from './corpus_run.js';
import { snapshot } from './run_case.js';
import { corpusTable, outcomeOf } from './table.js';

let corpus: Corpus;
let state: string[] = [];
const outcomes = new Map<string, string>();

before(async () => {
  corpus = await openCorpus();
  state = snapshot(corpus.root);
});

after(() => corpus?.close());

/** Removes what a failed case added to the corpus (so that the cases after it start from the same files). */
function restore(now: string[]): void {
  const kept = state.map((l) => l.replace(/( -> .*|\/| \d+ [\d.]+)$/, ''));
  for (const line of now.filter((l) => !state.includes(l)).reverse()) {
    const path = line.replace(/( -> .*|\/| \d+ [\d.]+)$/, '');
    if (!kept.includes(path)) rmSync(path, { recursive: true, force: true });
  }
}

/** The checks every case must pass, given its exit code and output. */
function check(c: CorpusCase, r: { code: number; stdout: string; stderr: string }): void {
  const shown = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 1, `exit code ${r.code}\n${shown}`);
  assert.match(r.stderr, /^sasa: error: /m, shown);
  assert.doesNotMatch(`${r.stdout}\n${r.stderr}`, /^\s+at /m, `a stack trace\n${shown}`);
  for (const name of c.names) {
    assert.ok(r.stderr.includes(resolve(name, corpus.paths)), `not named: ${name}\n${shown}`);
  }
}

describe('the bad-input corpus', () => {
  for (const c of CORPUS) {
    it(c.id, { timeout: 60_000 }, async () => {
      const r = await corpus.run(c);
      outcomes.set(c.id, outcomeOf(r.stderr, corpus.paths));
      const now = snapshot(corpus.root);
      restore(now);
      check(c, r);
      assert.deepEqual(now, state, `${c.id} changed the corpus's files`);
    });
  }

  it('the real executable prints and exits as runCli does', () => {
    for (const id of ['args-unknown-option', 'model-nan-weights']) {
      const c = CORPUS.find((x) => x.id === id) as CorpusCase;
      const args = c.args.map((a) => resolve(a, corpus.paths));
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      check(c, { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
      assert.equal(outcomeOf(r.stderr, corpus.paths), outcomes.get(id));
    }
    assert.deepEqual(snapshot(corpus.root), state);
  });

  it('has at least 80 cases with unique ids, and README.md holds their table', () => {
    assert.ok(CORPUS.length >= 80, `${CORPUS.length} cases`);
    assert.equal(new Set(CORPUS.map((c) => c.id)).size, CORPUS.length);
    const readme = readFileSync('README.md', 'utf8');
    const table = corpusTable(outcomes);
    const differ = table.split('\n').filter((line) => !readme.includes(line));
    assert.ok(
      readme.includes(table),
      `README.md: run npx tsx scripts/corpus-table.ts --write; it lacks\n${differ.join('\n')}`,
    );
  });
});
