/**
 * The WebGL programs' pure parts, in Node (no WebGL needed): GLSL float literals, which geometries
 * take the vec4 program, and the shaders' constants and inputs for a few geometries. The numbers
 * the programs compute are checked in Chromium (kernels.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveGeometry } from '../../../src/ops/local_attention/options.js';
import { StemAttentionProgram } from '../../../src/ops/webgl/attention_stem.js';
import { glslFloat } from '../../../src/ops/webgl/glsl.js';
import { LocalAttentionProgram } from '../../../src/ops/webgl/local_attention.js';
import { fitsVec4, LocalAttentionVec4Program } from '../../../src/ops/webgl/local_attention_vec4.js';

const geometry = (channels: number, heads: number, logits: 'qk+qr' | 'qk' | 'qr' = 'qk+qr') => {
  const shape = [1, 5, 6, channels];
  const table = logits === 'qk' ? null : [3, channels / 2];
  return resolveGeometry(
    { q: shape, k: logits === 'qr' ? null : shape, v: shape, relRow: table, relCol: table },
    { kernelSize: 3, heads, logits },
  );
};

describe('WebGL programs (pure parts)', () => {
  it('writes GLSL float literals with a decimal point and refuses non-finite numbers', () => {
    assert.equal(glslFloat(1), '1.0');
    assert.equal(glslFloat(-2), '-2.0');
    assert.equal(glslFloat(0.25), '0.25');
    assert.equal(glslFloat(1e-7), '1e-7');
    assert.throws(() => glslFloat(Number.NaN), /not a finite number/);
    assert.throws(() => glslFloat(Number.POSITIVE_INFINITY), /not a finite number/);
  });

  it('takes the vec4 program only for heads of whole groups of four and halves of whole groups', () => {
    assert.equal(fitsVec4(geometry(16, 4)), true);
    assert.equal(fitsVec4(geometry(24, 3)), true);
    assert.equal(fitsVec4(geometry(20, 5)), false, 'C/2 = 10 splits a group with relative logits');
    assert.equal(fitsVec4(geometry(12, 3, 'qk')), true, 'no relative logits: halves do not matter');
    assert.equal(fitsVec4(geometry(12, 2)), false, 'heads of 6 channels');
    assert.equal(fitsVec4(geometry(6, 1)), false);
  });

  it('reads only the inputs the logits use, in the kernels’ order', () => {
    assert.deepEqual(new LocalAttentionProgram(geometry(8, 2), 'separate', 'y').variableNames, [
      'q',
      'k',
      'v',
      'relRow',
      'relCol',
    ]);
    assert.deepEqual(new LocalAttentionProgram(geometry(8, 2, 'qr'), 'separate', 'y').variableNames, [
      'q',
      'v',
      'relRow',
      'relCol',
    ]);
    assert.deepEqual(new LocalAttentionVec4Program(geometry(8, 2, 'qk'), 'packed', 'y').variableNames, ['qkv']);
  });

  it('shapes y and lse as the TypeScript kernel does', () => {
    const g = geometry(16, 4);
    assert.deepEqual(new LocalAttentionProgram(g, 'separate', 'y').outputShape, [1, 5, 6, 16]);
    assert.deepEqual(new LocalAttentionProgram(g, 'separate', 'lse').outputShape, [1, 5, 6, 4]);
    assert.deepEqual(new LocalAttentionVec4Program(g, 'separate', 'y').outputShape, [(5 * 6 * 16) / 2, 2]);
    assert.deepEqual(new LocalAttentionVec4Program(g, 'separate', 'lse').outputShape, [1, 5, 6, 4]);
    const stem = {
      blocks: 3,
      block: 4,
      inChannels: 3,
      filters: 16,
      positions: 16,
      heads: 4,
      scale: 0.5,
      relative: true,
    };
    assert.deepEqual(new StemAttentionProgram(stem, 'y').outputShape, [3, 4, 4, 16]);
    assert.deepEqual(new StemAttentionProgram(stem, 'lse').variableNames, ['x', 'wq', 'wk', 'relRow', 'relCol']);
  });

  it('compiles the geometry into the shader as constants', () => {
    const code = new LocalAttentionProgram(geometry(8, 2), 'packed', 'y').userCode;
    assert.match(code, /const int KSIZE = 3;/);
    assert.match(code, /const int HEAD_DIM = 4;/);
    assert.match(code, /const float SCALE = 0\.5;/);
    assert.match(code, /getQkv\(b, i, j, 16 \+ c\)/, 'v is the third part of q|k|v');
  });
});
