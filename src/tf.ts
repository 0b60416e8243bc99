/**
 * The TensorFlow.js surface sasa uses: tfjs-core (tensors, ops, autograd, optimizers, IO) and tfjs-layers
 * (layers, models, serialization), the two peer dependencies, re-exported as one namespace the way the
 * `@tensorflow/tfjs` union package does, without its converter, data and WebGL parts. Importing it checks
 * that the installed versions are in the peer range (tfjs_version.ts) and throws one message if not.
 */
import { version_core } from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { checkTfjsVersions } from './tfjs_version.js';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';

checkTfjsVersions({ '@tensorflow/tfjs-core': version_core, '@tensorflow/tfjs-layers': version_layers });
