/** SasaConv2D → Conv (TensorFlow 'same' padding made explicit); a following batch norm folds into its weights and bias. */
import type { Conv2D } from '../../../layers/conv2d.js';
import { convKernelToOnnx, type Emitter, samePads, scaleRows, weightOf } from './emitter.js';

export const emitConv2D: Emitter = (ctx) => {
  const layer = ctx.layer as Conv2D;
  const g = ctx.graph;
  const [h, w] = ctx.inputShapes[0];
  const { data, shape } = weightOf(layer, 'kernel');
  const weights = convKernelToOnnx(data, shape);
  const k = layer.kernelSize;
  const s = layer.strides;
  const kernel = g.floats(`${layer.name}.weight`, [shape[3], shape[2], k, k], weights);
  const { output, node } = g.addNode('Conv', [ctx.inputs[0], kernel], layer.name, {
    kernel_shape: [k, k],
    strides: [s, s],
    pads: samePads(h, w, k, s),
  });
  const fold = (scale: Float32Array, shift: Float32Array) => {
    scaleRows(weights, scale);
    node.inputs.push(g.floats(`${layer.name}.bias`, [shift.length], shift));
    return output;
  };
  return { output, fold };
};
