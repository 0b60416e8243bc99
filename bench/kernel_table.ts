/**
 * The per-kernel table the profiling scripts print: tf.profile's kernels grouped under `label(kernel)`,
 * their summed time (kernelTimeMs; a kernel the backend does not time counts as NaN), call count and
 * share, the `top` largest first.
 */
import type * as tf from '../src/tf.js';

type Profile = Awaited<ReturnType<typeof tf.profile>>;
type ProfiledKernel = Profile['kernels'][number];

export function printKernelTable(
  profile: Profile,
  label: (k: ProfiledKernel) => string,
  top: number,
  nameWidth: number,
): void {
  const byKernel = new Map<string, { ms: number; n: number }>();
  for (const k of profile.kernels) {
    const name = label(k);
    const e = byKernel.get(name) ?? { ms: 0, n: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number.NaN;
    e.n++;
    byKernel.set(name, e);
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`kernel time: ${total.toFixed(0)} ms in ${profile.kernels.length} kernel calls`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(
      `${name.padEnd(nameWidth)} ${e.ms.toFixed(1).padStart(9)} ms ${String(e.n).padStart(5)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)} %`,
    );
  }
}
