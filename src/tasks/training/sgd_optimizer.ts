/**
 * sasa's SGD as a `tf.Optimizer`, so that `model.compile({ optimizer: new SgdOptimizer(lr), loss })`
 * and `model.fit` / `fitDataset` train with it: PyTorch's torch.optim.SGD with momentum, Nesterov by
 * default, one fused `sgdUpdate` op per weight (ops/sgd_update.ts):
 *   g ← g + λ·w (weights of rank ≥ 2 only),  v ← μ·v + g,  w ← w − lr·(g + μ·v)  (plain: w ← w − lr·v).
 * The same update as tasks/classification/sgd.ts (the CLI trainer's), whose state is keyed by layer
 * weight name; here it is keyed by tfjs variable name, as tfjs's own optimisers key theirs.
 * Serialisable (`getConfig` / `fromConfig`, registered as 'SasaSgd'), so a model compiled with it and
 * saved with `includeOptimizer` reloads it.
 */

import { sgdUpdate } from '../../ops/sgd_update.js';
import * as tf from '../../tf.js';

/** The optimiser's settings besides the learning rate. */
export interface SgdOptimizerOptions {
  /** μ, in [0, 1). Default 0.9. */
  momentum?: number;
  /** λ of the L2 term added to the gradient of weights of rank ≥ 2. Default 1e-4. */
  weightDecay?: number;
  /** Nesterov momentum. Default true. */
  nesterov?: boolean;
}

/** The defaults of SgdOptimizerOptions (those of the CLI trainer's Sgd). */
export const SGD_OPTIMIZER_DEFAULTS: Required<SgdOptimizerOptions> = {
  momentum: 0.9,
  weightDecay: 1e-4,
  nesterov: true,
};

function checkSettings(learningRate: number, o: Required<SgdOptimizerOptions>): void {
  if (!(typeof learningRate === 'number' && learningRate >= 0 && Number.isFinite(learningRate))) {
    throw new Error(`SgdOptimizer: learningRate must be a finite number >= 0, got ${String(learningRate)}`);
  }
  if (!(typeof o.momentum === 'number' && o.momentum >= 0 && o.momentum < 1)) {
    throw new Error(`SgdOptimizer: momentum must be in [0, 1), got ${String(o.momentum)}`);
  }
  if (!(typeof o.weightDecay === 'number' && o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) {
    throw new Error(`SgdOptimizer: weightDecay must be a finite number >= 0, got ${String(o.weightDecay)}`);
  }
  if (typeof o.nesterov !== 'boolean') throw new Error(`SgdOptimizer: nesterov must be a boolean, got ${o.nesterov}`);
}

/** A tensor with its name, as tfjs's optimisers take and give them (tfjs-core does not export the type). */
type NamedTensor = Parameters<tf.Optimizer['setWeights']>[0][number];

/** The velocity's name in getWeights(): the variable's name + '/momentum', as tfjs's MomentumOptimizer. */
const VELOCITY_SUFFIX = '/momentum';

/**
 * SGD with (Nesterov) momentum and decoupled-from-norms weight decay as a tf.Optimizer. Each
 * `applyGradients` updates every variable it gets a gradient for with one `sgdUpdate` op
 * (w, v, g: same shape) and counts one iteration.
 */
export class SgdOptimizer extends tf.Optimizer {
  /** The name under which the class is registered for (de)serialisation. */
  static get className(): string {
    return 'SasaSgd';
  }

  private readonly settings: Required<SgdOptimizerOptions>;
  /** Velocity per variable name (tf.Variable.name), created as zeros at a variable's first update. */
  private readonly velocity = new Map<string, tf.Variable>();

  /**
   * @param learningRate lr of the update (change it between steps with setLearningRate).
   * @param options momentum, weightDecay, nesterov (SGD_OPTIMIZER_DEFAULTS where left out).
   */
  constructor(
    private learningRate: number,
    options: SgdOptimizerOptions = {},
  ) {
    super();
    this.settings = { ...SGD_OPTIMIZER_DEFAULTS, ...options };
    checkSettings(learningRate, this.settings);
  }

  /** The current learning rate. */
  getLearningRate(): number {
    return this.learningRate;
  }

  /** Sets the learning rate of the next updates (a schedule's callback calls it per batch or epoch). */
  setLearningRate(learningRate: number): void {
    checkSettings(learningRate, this.settings);
    this.learningRate = learningRate;
  }

  /** Updates each named variable from its gradient (same shape); a missing gradient leaves it as it is. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(variableGradients);
    for (const [name, gradient] of pairs) {
      if (gradient == null) continue;
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined) throw new Error(`SgdOptimizer: no variable named '${name}'`);
      this.update(name, variable, gradient);
    }
    this.incrementIterations();
  }

  private update(name: string, variable: tf.Variable, gradient: tf.Tensor): void {
    const velocity = this.velocityOf(name, variable);
    const { momentum, nesterov } = this.settings;
    const weightDecay = variable.rank >= 2 ? this.settings.weightDecay : 0;
    tf.tidy(() => {
      const next = sgdUpdate(variable, velocity, gradient, { lr: this.learningRate, momentum, weightDecay, nesterov });
      velocity.assign(next.v);
      variable.assign(next.w);
    });
  }

  private velocityOf(name: string, variable: tf.Variable): tf.Variable {
    let velocity = this.velocity.get(name);
    if (velocity === undefined) {
      velocity = tf.tidy(() => tf.zerosLike(variable).variable(false));
      this.velocity.set(name, velocity);
    }
    return velocity;
  }

  /** The iteration count, then each velocity named `<variable>/momentum` (the order tfjs saves). */
  override async getWeights(): Promise<NamedTensor[]> {
    const velocities = [...this.velocity].map(([name, v]) => ({ name: `${name}${VELOCITY_SUFFIX}`, tensor: v }));
    return [await this.saveIterations(), ...velocities];
  }

  /** Restores what getWeights() gave (the iteration count first, then the velocities). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const velocities = await this.extractIterations(weightValues);
    this.disposeVelocity();
    for (const { name, tensor } of velocities) {
      if (!name.endsWith(VELOCITY_SUFFIX)) throw new Error(`SgdOptimizer: weight '${name}' is not a velocity`);
      const variableName = name.slice(0, -VELOCITY_SUFFIX.length);
      this.velocity.set(variableName, tensor.variable(false));
    }
  }

  /** Frees the velocities. */
  override dispose(): void {
    this.disposeVelocity();
  }

  private disposeVelocity(): void {
    tf.dispose([...this.velocity.values()]);
    this.velocity.clear();
  }

  /** learningRate, momentum, weightDecay, nesterov. */
  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, ...this.settings };
  }

  /** The optimiser getConfig() describes. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const { learningRate, momentum, weightDecay, nesterov } = config;
    return new cls(learningRate, { momentum, weightDecay, nesterov });
  }
}

tf.serialization.registerClass(SgdOptimizer);
