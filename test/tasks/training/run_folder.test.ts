/** The run folder's clean-up: only temporaries of our own pattern, left by processes no longer running, go. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { siblingName, siblingOwner } from '../../../src/io/files.js';
import { removeStaleTemporaries } from '../../../src/tasks/training/run_folder.js';

const dir = mkdtempSync(join(tmpdir(), 'sasa-run-folder-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('removeStaleTemporaries', () => {
  it('removes the temporaries of dead processes only, of our names and tags only', () => {
    const dead = spawnSync('true').pid as number;
    const mine = siblingName(join(dir, 'checkpoint.safetensors'), 'tmp');
    assert.equal(siblingOwner(mine.slice(dir.length + 1), 'checkpoint.safetensors', 'tmp'), process.pid);
    const stale = [
      `.checkpoint.safetensors.tmp-${dead}-0011aabb`,
      `.model.tmp-${dead}-22334455`,
      `.model.old-${dead}-66778899`,
      `.loss.png.tmp-${dead}-aabbccdd`,
    ];
    const kept = [
      `.checkpoint.safetensors.tmp-${process.ppid}-0011aabb`,
      `.checkpoint.safetensors.tmp-${process.pid}-0011aabb`,
      `.notes.txt.tmp-${dead}-0011aabb`,
      `.model.tmp-${dead}-xyz`,
      `model.tmp-${dead}-22334455`,
      'checkpoint.safetensors',
    ];
    for (const f of [...stale, ...kept]) {
      if (f.includes('model.')) mkdirSync(join(dir, f));
      else writeFileSync(join(dir, f), '');
    }
    assert.deepEqual(removeStaleTemporaries(dir).sort(), [...stale].sort());
    assert.deepEqual(readdirSync(dir).sort(), [...kept].sort());
  });
});
