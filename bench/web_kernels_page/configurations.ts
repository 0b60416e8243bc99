/** What bench/web_kernels.ts and its page share: the options, the configurations timed and the result. */

export interface BenchOptions {
  model: string;
  rounds: number;
  runs: number;
}

export const CONFIGURATIONS = ['webgl kernels', 'ts kernels', 'no attention', 'cpu backend'] as const;
export type Configuration = (typeof CONFIGURATIONS)[number];

export interface BenchResult {
  renderer: string;
  inputShape: number[];
  /** Milliseconds per classification, every timed run, per configuration. */
  times: Record<Configuration, number[]>;
  /** Kernels run per classification with the attention writing zeros (tf.profile), by kernel name. */
  floorKernels: Record<string, number>;
  /** Largest difference between the probabilities of the WebGL and TypeScript kernels. */
  probabilityDifference: number;
}
