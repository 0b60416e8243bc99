/** writeError and writing(): a system error met while writing names the path, what was written and why. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeError, writing, writingSync } from '../../src/io/files.js';

/** An error as node:fs throws it. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: raw message, write`), { code, syscall: 'write' });
}

describe('writeError', () => {
  it('says what a full disk, a read-only file system and a refused permission mean', () => {
    const cases: [string, string][] = [
      ['ENOSPC', 'no space left on the device'],
      ['EROFS', 'the file system is read-only'],
      ['EACCES', 'permission denied'],
    ];
    for (const [code, words] of cases) {
      const err = writeError('/run/checkpoint.safetensors', 'the checkpoint', systemError(code)) as Error;
      assert.equal(err.message, `/run/checkpoint.safetensors: cannot write the checkpoint (${words}, ${code})`);
    }
  });

  it('passes errors without a system code unchanged', () => {
    const own = new Error('the loss became NaN');
    assert.equal(writeError('/run/x', 'x', own), own);
  });

  it('writing() and writingSync() rethrow through it', async () => {
    await assert.rejects(
      writing('/m/model', 'the model', async () => {
        throw systemError('ENOSPC');
      }),
      /^Error: \/m\/model: cannot write the model \(no space left on the device, ENOSPC\)$/,
    );
    assert.throws(
      () =>
        writingSync('/m/metrics.jsonl', 'the metrics log', () => {
          throw systemError('EROFS');
        }),
      /metrics\.jsonl: cannot write the metrics log \(the file system is read-only, EROFS\)/,
    );
  });
});
