/** The checkpoint and the one before it: what a blow-up at step s rolls back, and no temporary left. */
import assert from 'node:assert/strict';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { CheckpointHistory } from '../../../src/tasks/training/checkpoint_history.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-checkpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A history in a fresh folder whose checkpoint "holds" the step it was saved at. */
function history(name: string, resumedAt: number | null = null) {
  const folder = join(dir, name);
  mkdirSync(folder);
  const path = join(folder, 'checkpoint.safetensors');
  const h = new CheckpointHistory(path, resumedAt);
  const save = (step: number) =>
    h.save(step, async () => {
      const tmp = `${path}.new`;
      writeFileSync(tmp, `${step}`);
      renameSync(tmp, path);
    });
  const held = () => (existsSync(path) ? Number(readFileSync(path, 'utf8')) : null);
  return { h, save, held, folder };
}

it('a blow-up at the step after the checkpoint puts the previous one back', async () => {
  const { h, save, held } = history('back', null);
  await save(3);
  await save(6);
  await save(6); // the epoch-end checkpoint at the same step keeps step 3 as the previous
  assert.equal(h.rollBack(7), 'previous');
  assert.equal(held(), 3);
  assert.equal(h.rollBack(9), 'kept');
});

it('a blow-up later than the step after the checkpoint keeps it; without a previous one it is removed', async () => {
  const { h, save, held } = history('keep', null);
  await save(2);
  assert.equal(h.rollBack(4), 'kept');
  assert.equal(held(), 2);
  assert.equal(h.rollBack(3), 'removed');
  assert.equal(held(), null);
});

it('a resumed run saving over a checkpoint already linked as the previous leaves no temporary', async () => {
  const { save, folder } = history('resumed', 3);
  writeFileSync(join(folder, 'checkpoint.safetensors'), '3');
  linkSync(join(folder, 'checkpoint.safetensors'), join(folder, 'checkpoint.previous.safetensors'));
  await save(6);
  assert.deepEqual(readdirSync(folder).sort(), ['checkpoint.previous.safetensors', 'checkpoint.safetensors']);
  assert.equal(readFileSync(join(folder, 'checkpoint.previous.safetensors'), 'utf8'), '3');
});
