/** initBackend(): which backend it selects and what it reports. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadAddon } from '../../src/backend/addon.js';
import { type BackendStatus, initBackend, NATIVE_BACKEND } from '../../src/backend/native.js';
import * as tf from '../../src/tf.js';
import { assertClose, describeNative, nativeAvailable, setup } from '../helpers.js';

/** Kernels the native backend must replace (the list plus the fused training kernels). */
const expectedKernels = [
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'FusedConv2D',
  'BatchMatMul',
  '_FusedMatMul',
  'FusedBatchNorm',
  'SasaBatchNormTrain',
  'SasaBatchNormTrainGrad',
  'MaxPool',
  'MaxPoolGrad',
  'AvgPool',
  'AvgPoolGrad',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Maximum',
  'Minimum',
  'Relu',
  'Step',
  'SasaReluGrad',
  'Sum',
  'Mean',
];

let status: BackendStatus;

before(async () => {
  status = await setup();
});

describeNative(
  'initBackend with the addon built',
  () => {
    it("selects 'native' and reports the oneDNN build", () => {
      assert.equal(status.backend, NATIVE_BACKEND);
      assert.equal(status.native, true);
      assert.equal(tf.getBackend(), NATIVE_BACKEND);
      assert.equal(status.reason, undefined);
      assert.ok(status.info, 'info is reported');
      assert.match(status.info.onednnVersion, /^2\.\d+\.\d+$/);
      assert.ok(Number.isInteger(status.info.threads) && status.info.threads >= 1, `threads ${status.info.threads}`);
      assert.equal(typeof status.info.isa, 'string');
      assert.match(status.addonPath ?? '', /sasa_native\.node$/);
    });

    it('registers every native kernel on the native backend', () => {
      for (const k of expectedKernels) {
        assert.ok(status.nativeKernels.includes(k), `${k} is reported as native`);
        assert.ok(tf.getKernel(k, NATIVE_BACKEND), `${k} is registered`);
      }
      // tfjs's own cpu backend is left alone.
      assert.equal(tf.getKernel('SasaBatchNormTrain', 'cpu'), undefined);
    });

    it('inherits the rest of the cpu kernels (e.g. Exp) and they work', async () => {
      assert.ok(tf.getKernel('Exp', NATIVE_BACKEND));
      const y = tf.exp(tf.tensor([0, 1]));
      assertClose(await y.data(), [1, Math.E], { tol: 1e-6 });
      y.dispose();
    });

    it('is idempotent', async () => {
      const again = await initBackend();
      assert.equal(again.backend, NATIVE_BACKEND);
      assert.deepEqual(again.nativeKernels, status.nativeKernels);
      assert.equal(tf.getBackend(), NATIVE_BACKEND);
    });

    it('info() agrees with the addon', () => {
      const load = loadAddon();
      assert.ok(load.addon);
      assert.equal(load.addon.info().onednnVersion, status.info?.onednnVersion);
    });
  },
  'the addon is not in use',
);

describe('initBackend without the native backend', {
  skip: nativeAvailable ? 'the native backend is active' : false,
}, () => {
  it("falls back to 'cpu' and says why", () => {
    assert.equal(status.backend, 'cpu');
    assert.equal(status.native, false);
    assert.equal(tf.getBackend(), 'cpu');
    if (!loadAddon().addon) assert.ok(status.reason && status.reason.length > 0, 'a reason is given');
  });
});

describe('initBackend option checks', () => {
  it("require: true with backend 'cpu' is refused with the fix", async () => {
    await assert.rejects(initBackend({ require: true, backend: 'cpu' }), /native backend is required but unavailable/);
    // Nothing changed.
    assert.equal(tf.getBackend(), status.backend);
  });
});
