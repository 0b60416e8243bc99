/**
 * Lists every distinct convolution a registered model runs (src/models/convs.ts: read off the built
 * network), with how many times one step runs it:
 *   npx tsx bench/model_convs.ts [--model resnet26] [--batch 8] [--size 224] [--json]
 * `bench/compare.mjs --cases resnet26-convs` reads the --json form and times each one on sasa and
 * PyTorch. Builds the model once (weights are initialised, nothing is run); the classifier is built
 * with 10 classes, which changes no convolution.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/native.js';
import { modelConvs } from '../src/models/convs.js';
import { createModel } from '../src/models/registry.js';

const { values: opt } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet26' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '224' },
    json: { type: 'boolean', default: false },
  },
});
const batch = Number(opt.batch);
const size = Number(opt.size);
if (!(Number.isInteger(batch) && batch >= 1 && Number.isInteger(size) && size >= 1)) {
  console.error('model_convs: --batch and --size must be positive integers');
  process.exit(1);
}
// The native backend builds quietly (tfjs's cpu backend prints a banner on stdout).
await initBackend({ backend: process.env.SASA_BACKEND ?? 'native' });
let convs: ReturnType<typeof modelConvs>;
try {
  const model = createModel(opt.model, { inputSize: size, classes: 10 });
  convs = modelConvs(model, batch);
  model.dispose();
} catch (e) {
  console.error(`model_convs: ${(e as Error).message}`);
  process.exit(1);
}

if (opt.json) {
  console.log(JSON.stringify({ model: opt.model, batch, size, convs }));
} else {
  const total = convs.reduce((s, c) => s + c.count * c.flops, 0);
  console.log(
    `${opt.model} at [${batch},${size},${size}]: ${convs.reduce((s, c) => s + c.count, 0)} convolutions, ${convs.length} distinct, ${(total / 1e9).toFixed(2)} GFLOP forward`,
  );
  for (const c of convs) {
    console.log(
      `${`[${c.shape}]`.padEnd(18)} ${`${c.kernel}x${c.kernel}/${c.stride}`.padEnd(6)} -> ${String(c.filters).padEnd(5)} x${c.count}  ${(c.flops / 1e9).toFixed(3)} GFLOP each${c.modelInput ? ' (model input: no dx needed)' : ''}  ${c.layers.join(' ')}`,
    );
  }
}
