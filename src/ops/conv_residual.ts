/**
 * A bottleneck block's end at inference as one op:
 *   y = max(0, conv(x, filter) + bias + residual)
 * x [B, H, W, C], filter [k, k, C, F], bias [F], residual [B, ⌈H/s⌉, ⌈W/s⌉, F], stride s, 'same' padding
 * (the last 1×1 conv with its batch norm folded in, the shortcut add, the ReLU). Kernel SasaConvResidualRelu:
 * on the native backend one oneDNN convolution with a bias and sum + ReLU post-ops, so the add and the ReLU
 * are no memory passes of their own; elsewhere tfjs's fused conv, add and relu (composed_kernels.ts).
 * Not differentiable (inference only: training needs the batch norm's batch statistics).
 */
import * as tf from '../tf.js';
import { type ComposedKernel, ensureKernels, tensorInput } from './composed_kernels.js';
import { CONV_RESIDUAL_RELU } from './kernel_names.js';

/** The formula in tfjs ops: inputs x, filter, bias, residual; attr strides → y. */
export const convResidualReluComposed: tf.KernelFunc = ({ inputs, attrs }) => {
  const [x, filter, bias, residual] = ['x', 'filter', 'bias', 'residual'].map((n) => tensorInput(inputs, n));
  const strides = (attrs as { strides: number }).strides;
  return tf.tidy(() =>
    tf.relu(
      tf.add(
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: filter as tf.Tensor4D, strides, pad: 'same', bias }),
        residual,
      ),
    ),
  );
};

const KERNELS: readonly ComposedKernel[] = [{ kernelName: CONV_RESIDUAL_RELU, kernelFunc: convResidualReluComposed }];

function checkArgs(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, residual: tf.Tensor, strides: number): void {
  const where = `convResidualRelu: x ${JSON.stringify(x.shape)}, filter ${JSON.stringify(filter.shape)}`;
  for (const t of [x, filter, bias, residual]) {
    if (!(t instanceof tf.Tensor) || t.dtype !== 'float32')
      throw new Error(`${where}: every input must be a float32 tensor`);
  }
  if (!Number.isInteger(strides) || strides < 1)
    throw new Error(`${where}: strides must be a positive integer, got ${strides}`);
  if (x.rank !== 4 || filter.rank !== 4 || filter.shape[2] !== x.shape[3]) {
    throw new Error(`${where}: expected x [B,H,W,C] and filter [k,k,C,F]`);
  }
  const [b, h, w] = x.shape as number[];
  const f = filter.shape[3] as number;
  const out = [b, Math.ceil(h / strides), Math.ceil(w / strides), f];
  if (bias.rank !== 1 || bias.shape[0] !== f)
    throw new Error(`${where}: bias must be [${f}], got ${JSON.stringify(bias.shape)}`);
  if (!tf.util.arraysEqual(residual.shape, out)) {
    throw new Error(
      `${where}: residual must be the output's shape ${JSON.stringify(out)}, got ${JSON.stringify(residual.shape)}`,
    );
  }
}

/** max(0, conv(x, filter, strides, 'same') + bias + residual): see the file's comment. */
export function convResidualRelu(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  residual: tf.Tensor4D,
  strides: number,
): tf.Tensor4D {
  checkArgs(x, filter, bias, residual, strides);
  ensureKernels(KERNELS);
  return tf.engine().runKernel(CONV_RESIDUAL_RELU, { x, filter, bias, residual }, { strides }) as tf.Tensor4D;
}
