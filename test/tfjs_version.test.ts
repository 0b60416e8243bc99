/** The tfjs peer range: the check's verdicts, its message, package.json's range and the installed versions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '../src/tf.js';
import {
  checkTfjsVersions,
  inPeerRange,
  TFJS_PACKAGES,
  TFJS_PEER_RANGE,
  TFJS_TESTED,
  tfjsVersionProblem,
} from '../src/tfjs_version.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('tfjs peer range', () => {
  it('takes 4.22.0 up to any 4.x and refuses older 4.x, 3.x, 5.x and unreadable versions', () => {
    for (const v of ['4.22.0', '4.22.1', '4.23.0', '4.99.3', '4.22.0-rc.1']) assert.equal(inPeerRange(v), true, v);
    for (const v of ['4.21.0', '4.0.0', '3.21.0', '5.0.0', '5.0.0-alpha', 'latest', '']) {
      assert.equal(inPeerRange(v), false, v);
    }
  });

  it('names the range, the tested version and each installed version outside it, in one message', () => {
    const message = tfjsVersionProblem({
      '@tensorflow/tfjs-core': '3.21.0',
      '@tensorflow/tfjs-layers': '5.0.0',
    });
    assert.equal(
      message,
      'sasa needs TensorFlow.js >=4.22.0 <5 (built and tested with 4.22.0), but @tensorflow/tfjs-core@3.21.0 and ' +
        '@tensorflow/tfjs-layers@5.0.0 are installed; fix: npm install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-layers@4.22.0 ' +
        '@tensorflow/tfjs-backend-cpu@4.22.0',
    );
    assert.throws(() => checkTfjsVersions({ '@tensorflow/tfjs-core': '4.21.0' }), {
      message: /needs TensorFlow\.js >=4\.22\.0 <5 .* but @tensorflow\/tfjs-core@4\.21\.0 is installed/,
    });
    assert.equal(tfjsVersionProblem({ '@tensorflow/tfjs-core': '4.22.0' }), undefined);
  });

  it('is package.json peer range for the three tfjs packages, whose pinned dev versions are the tested one', () => {
    assert.deepEqual(Object.keys(pkg.peerDependencies).sort(), [...TFJS_PACKAGES].sort());
    for (const name of TFJS_PACKAGES) {
      assert.equal(pkg.peerDependencies[name], TFJS_PEER_RANGE, name);
      assert.equal(pkg.devDependencies[name], TFJS_TESTED, name);
    }
  });

  it('holds the installed tfjs (the import of src/tf.ts did not throw)', () => {
    const installed = { core: tf.version_core, layers: tf.version_layers, cpu: version_cpu };
    for (const [name, version] of Object.entries(installed)) assert.equal(inPeerRange(version), true, name);
    assert.equal(tf.version_core, TFJS_TESTED);
  });
});
