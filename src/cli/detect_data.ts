/** Opening a detection source for the CLI: the spec parsed, `shapes` generated on first use with a progress bar, bad annotations named. */
import { type DetectionData, openDetectionData, parseDetectionSpec } from '../data/detection/spec.js';
import { progressBar } from './progress.js';

export async function openDetection(spec: string, { strict = false, seed = 0 } = {}): Promise<DetectionData> {
  let bar: ReturnType<typeof progressBar> | null = null;
  const data = await openDetectionData(parseDetectionSpec(spec), {
    strict,
    seed,
    onGenerate(done, total) {
      bar ??= progressBar('generating shapes', total);
      bar.tick();
      if (done === total) bar.stop();
    },
  });
  // annotations of known images are named with their batch (the training progress); those of unknown images here
  for (const set of [data.train, data.validation]) {
    for (const s of set.skipped.filter((a) => a.path === '')) {
      process.stderr.write(
        `skipped annotation ${s.annotationId} (entry ${s.index}, ${set.name}): ${s.field}: ${s.reason}\n`,
      );
    }
  }
  return data;
}
