/**
 * Runs the bad-input corpus (test/corpus/) and prints its cases with the message each printed, as the
 * markdown tables of README.md's reliability section; `--write` replaces the tables in README.md.
 * test/corpus/corpus.test.ts checks that README.md holds what its own run printed. Needs root (mounts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CORPUS } from '../test/corpus/cases.js';
import { openCorpus } from '../test/corpus/corpus_run.js';
import { corpusTable, outcomeOf, TABLE_BEGIN, TABLE_END } from '../test/corpus/table.js';

const corpus = await openCorpus();
const outcomes = new Map<string, string>();
try {
  for (const c of CORPUS) {
    const r = await corpus.run(c);
    if (r.code !== 1) process.stderr.write(`${c.id}: exit code ${r.code} (the corpus test fails on it)\n`);
    outcomes.set(c.id, outcomeOf(r.stderr, corpus.paths));
  }
} finally {
  corpus.close();
}
const table = corpusTable(outcomes);
if (process.argv.includes('--write')) {
  const readme = readFileSync('README.md', 'utf8');
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < 0) throw new Error(`README.md: no '${TABLE_BEGIN}' … '${TABLE_END}' to replace`);
  writeFileSync('README.md', readme.slice(0, begin) + table + readme.slice(end + TABLE_END.length));
} else console.log(table);
