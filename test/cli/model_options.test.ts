/** Model flags (src/cli/model_options.ts): a fault in what a flag set is reported against the flag. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromFlags, kernelSizeArg, type ModelFlags } from '../../src/cli/model_options.js';
import { ConfigError } from '../../src/models/config.js';

const data = { size: 32, channels: 3, classes: 10 };
const flags = (more: Partial<ModelFlags>): ModelFlags => ({ model: 'sasa_resnet26', stem: 'auto', ...more });

describe('configFromFlags', () => {
  it('names --k, not the configuration field, for a bad kernel size', () => {
    assert.throws(
      () => configFromFlags(flags({ k: 4 }), data),
      (e: Error) =>
        !(e instanceof ConfigError) &&
        /^--k must be an odd integer from 1 to 31, got 4 \(model 'sasa_resnet26', attention.kernelSize\)$/.test(
          e.message,
        ),
    );
    assert.throws(() => configFromFlags(flags({ k: 33 }), data), /--k must be an odd integer from 1 to 31, got 33/);
  });
  it('names --heads and --bn-decay for their fields', () => {
    assert.throws(() => configFromFlags(flags({ heads: 3 }), data), /--heads 3 must divide widths\[0\] 64/);
    assert.throws(() => configFromFlags(flags({ bnDecay: 1.5 }), data), /--bn-decay must be in \[0, 1\), got 1.5/);
  });
  it('keeps the field name for a fault no flag set', () => {
    assert.throws(
      () => configFromFlags(flags({}), data, { attention: { kernelSize: 4 } }),
      (e: Error) => e instanceof ConfigError && e.field === 'attention.kernelSize',
    );
  });
  it('returns the configuration the flags describe', () => {
    const config = configFromFlags(flags({ k: 5, heads: 4 }), data);
    assert.equal(config.attention?.kernelSize, 5);
    assert.equal(config.attention?.heads, 4);
    assert.equal(config.inputSize, 32);
  });
});

describe('kernelSizeArg', () => {
  it('parses an odd size up to the limit and names the flag otherwise', () => {
    assert.equal(kernelSizeArg('--k')('7'), 7);
    assert.equal(kernelSizeArg('--k')('31'), 31);
    assert.throws(() => kernelSizeArg('--k')('4'), /--k must be an odd integer from 1 to 31, got 4/);
    assert.throws(() => kernelSizeArg('--k')('33'), /--k must be an odd integer from 1 to 31, got 33/);
    assert.throws(() => kernelSizeArg('--k')('x'), /--k must be an odd integer from 1 to 31, got x/);
  });
});
