/**
 * src/browser.ts (what the web page imports) stays browser-safe: following its relative imports through
 * src/, no module reaches Node's built-ins, sharp, resvg, the native addon or the Node backend.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const NODE_ONLY = /^(node:|sharp$|@resvg\/|fs$|path$|os$|child_process$)/;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'/g;

/** Every module reached from `entry` by relative imports: [file, specifiers it imports]. */
function closure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
    seen.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) visit(join(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return seen;
}

describe('the browser entry', () => {
  it('imports nothing Node-only, directly or through src/', () => {
    const modules = closure('src/browser.ts');
    assert.ok(modules.size > 10, `only ${modules.size} modules reached: the import walk is broken`);
    const offending = [...modules].flatMap(([file, specifiers]) =>
      specifiers
        .filter((s) => NODE_ONLY.test(s) || /\/backend\//.test(s))
        .map((s) => `${relative('.', file)} imports '${s}'`),
    );
    assert.deepEqual(offending, []);
  });
});
