/** The README's library example is examples/quickstart.mjs, character for character (the file is what CI runs). */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';

it("README's library example is examples/quickstart.mjs", async () => {
  const root = new URL('../../', import.meta.url);
  const readme = await readFile(new URL('README.md', root), 'utf8');
  const example = await readFile(new URL('examples/quickstart.mjs', root), 'utf8');
  const library = readme.slice(readme.indexOf('## Library\n'));
  const block = /```js\n([\s\S]*?)```/.exec(library);
  assert.ok(block, 'no ```js block under ## Library');
  assert.equal(block[1], example);
});
