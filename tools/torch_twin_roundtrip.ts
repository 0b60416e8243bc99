/**
 * sasa → PyTorch → sasa through the twin for every registered model (reduced) and the attention
 * variants, printing each case's differences (the test, test/io/torch_twin_roundtrip.test.ts, runs
 * the same cases; test/io/torch_twin.ts holds the trip). With --trained DIR (a `sasa_torch.train_ddp`
 * output: config.json, model.safetensors) the one case is that model with the weights PyTorch trained.
 *   npx tsx tools/torch_twin_roundtrip.ts [--backend native|cpu] [--trained DIR]
 */
import { initBackend } from '../src/backend/native.js';
import { roundTrip, roundTripCases, TWIN_TOLERANCE, trainedConfig } from '../test/io/torch_twin.js';

const option = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

await initBackend({ backend: option('backend') ?? 'native' });
const trained = option('trained');
const results = await roundTrip(trained ? [trainedConfig(trained)] : roundTripCases(), trained);
let failed = 0;
for (const r of results) {
  const ok = r.changed.length === 0 && r.sasaVsTorch <= TWIN_TOLERANCE && r.sasaVsBack <= TWIN_TOLERANCE;
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(28)} |logits| ≤ ${r.logitScale.toFixed(3)}  ` +
      `sasa vs torch ${r.sasaVsTorch.toExponential(2)}  sasa vs sasa(torch save) ${r.sasaVsBack.toExponential(2)}` +
      (r.changed.length ? `  weights changed: ${r.changed.slice(0, 3).join(', ')}` : '  weights bit-identical'),
  );
}
if (failed) {
  console.error(`${failed} of ${results.length} round trips failed`);
  process.exit(1);
}
console.log(`all ${results.length} round trips within ${TWIN_TOLERANCE}`);
