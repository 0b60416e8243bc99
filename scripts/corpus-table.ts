/**
 * Prints the bad-input corpus's cases (test/corpus/cases.ts) as the markdown tables README.md's
 * reliability section holds; `--write` replaces the table in README.md. test/corpus/corpus.test.ts
 * checks that the README's table is this output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { corpusTable, TABLE_BEGIN, TABLE_END } from '../test/corpus/table.js';

const table = corpusTable();
if (process.argv.includes('--write')) {
  const readme = readFileSync('README.md', 'utf8');
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < 0) throw new Error(`README.md: no '${TABLE_BEGIN}' … '${TABLE_END}' to replace`);
  writeFileSync('README.md', readme.slice(0, begin) + table + readme.slice(end + TABLE_END.length));
} else console.log(table);
