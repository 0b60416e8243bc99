/**
 * The TensorFlow.js surface sasa uses: tfjs-core (tensors, ops, autograd, optimizers, IO) and tfjs-layers
 * (layers, models, serialization), the two peer dependencies, re-exported as one namespace the way the
 * `@tensorflow/tfjs` union package does, without its converter, data and WebGL parts.
 */
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
