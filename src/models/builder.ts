/**
 * buildModel: interprets a ModelConfig (config.ts) as a tfjs LayersModel
 *   x [B, S, S, C_in] → stem → groups of bottleneck blocks → global average pool → dense → logits [B, classes].
 * Bottleneck (ResNet v1.5, SASA.md §3): 1×1 conv, BN, ReLU → spatial op (3×3 conv or
 * LocalSelfAttention2D; the block's stride sits here) → BN, ReLU → 1×1 conv to width·4 → BN
 * (gamma zero-initialised) → + shortcut (identity, or strided 1×1 conv + BN) → ReLU (this BN, the add and the
 * ReLU are one residual BatchNorm layer, `${block}.bn3`).
 * Layers carry PyTorch-style names (stem.conv, layer2.0.conv2, layer2.0.downsample.0, fc) so that
 * weights map one-to-one onto a torchvision-style state dict (io/torch_names.ts).
 *
 * Initialisation (SASA.md §5 and torchvision): convolutions He normal (fan-out), the last BN of each
 * block gamma 0, other BN gamma 1 beta 0, the classifier Glorot normal (tfjs's default) with zero bias; attention
 * layers as documented in layers/.
 */

import { AttentionStem } from '../layers/attention_stem.js';
import { BatchNorm } from '../layers/batch_norm.js';
import { Conv2D } from '../layers/conv2d.js';
import { LocalSelfAttention2D } from '../layers/local_self_attention.js';
import { seedOf } from '../layers/seeds.js';
import * as tf from '../tf.js';
import { type ModelConfig, type ResolvedBlock, type ResolvedConfig, resolveConfig } from './config.js';
import { foldBatchNormsAtInference } from './folded_inference.js';

type Sym = tf.SymbolicTensor;

const resolvedOf = new WeakMap<tf.LayersModel, ResolvedConfig>();

/** The resolved configuration a model was built from (undefined for models built elsewhere). */
export function modelConfigOf(model: tf.LayersModel): ResolvedConfig | undefined {
  return resolvedOf.get(model);
}

class Builder {
  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly modelSeed?: number,
  ) {}

  /** The seed of the layer named `name`, derived from the model's (none when the model is unseeded). */
  private seed(name: string): { seed?: number } {
    return seedOf(this.modelSeed, name);
  }

  private bn(name: string, x: Sym, zeroGamma = false): Sym {
    return new BatchNorm({
      name,
      decay: this.cfg.bnDecay,
      epsilon: this.cfg.bnEpsilon,
      gammaInitializer: zeroGamma ? 'zeros' : 'ones',
    }).apply(x) as Sym;
  }

  /** Batch norm then ReLU, fused in one layer (and one kernel in training). */
  private bnRelu(name: string, x: Sym): Sym {
    return new BatchNorm({ name, decay: this.cfg.bnDecay, epsilon: this.cfg.bnEpsilon, relu: true }).apply(x) as Sym;
  }

  /** The last batch norm of a block with its shortcut and ReLU, relu(BN(x) + shortcut), in one layer (and op in training). */
  private bnAddRelu(name: string, x: Sym, shortcut: Sym, zeroGamma: boolean): Sym {
    return new BatchNorm({
      name,
      decay: this.cfg.bnDecay,
      epsilon: this.cfg.bnEpsilon,
      gammaInitializer: zeroGamma ? 'zeros' : 'ones',
      relu: true,
      residual: true,
    }).apply([x, shortcut]) as Sym;
  }

  private conv(name: string, x: Sym, filters: number, kernelSize: number, strides = 1): Sym {
    return new Conv2D({ name, filters, kernelSize, strides, ...this.seed(name) }).apply(x) as Sym;
  }

  stem(x: Sym): Sym {
    const s = this.cfg.stem;
    switch (s.type) {
      case 'conv': {
        const y = this.bnRelu('stem.bn', this.conv('stem.conv', x, s.width, 7, 2));
        return tf.layers.maxPooling2d({ name: 'stem.pool', poolSize: 3, strides: 2, padding: 'same' }).apply(y) as Sym;
      }
      case 'small_conv':
        return this.bnRelu('stem.bn', this.conv('stem.conv', x, s.width, 3, 1));
      default:
        return new AttentionStem({
          name: 'stem',
          filters: s.width,
          heads: s.heads,
          values: s.values,
          mixtures: s.mixtures,
          relative: s.relative,
          pool: s.type === 'attention' ? 4 : 1,
          batchNorm: { decay: this.cfg.bnDecay, epsilon: this.cfg.bnEpsilon },
          ...this.seed('stem'),
        }).apply(x) as Sym;
    }
  }

  private spatial(b: ResolvedBlock, x: Sym): Sym {
    const name = `${b.name}.conv2`;
    if (b.spatial === 'conv') return this.conv(name, x, b.width, 3, b.stride);
    const a = this.cfg.attention;
    return new LocalSelfAttention2D({
      name,
      filters: b.width,
      kernelSize: a.kernelSize,
      heads: a.heads,
      strides: b.stride,
      positional: a.positional,
      logits: a.logits,
      padding: a.padding,
      ...(a.scale === undefined ? {} : { scale: a.scale }),
      ...this.seed(name),
    }).apply(x) as Sym;
  }

  block(b: ResolvedBlock, x: Sym): Sym {
    const n = b.name;
    let y = this.bnRelu(`${n}.bn1`, this.conv(`${n}.conv1`, x, b.width, 1));
    y = this.bnRelu(`${n}.bn2`, this.spatial(b, y));
    y = this.conv(`${n}.conv3`, y, b.outChannels, 1);
    const shortcut = b.projection
      ? this.bn(`${n}.downsample.1`, this.conv(`${n}.downsample.0`, x, b.outChannels, 1, b.stride))
      : x;
    return this.bnAddRelu(`${n}.bn3`, y, shortcut, this.cfg.zeroInitLastBn);
  }

  model(): tf.LayersModel {
    const c = this.cfg;
    const input = tf.input({ shape: [c.inputSize, c.inputSize, c.inputChannels], name: 'input' });
    let x = this.stem(input);
    for (const b of c.blocks) x = this.block(b, x);
    x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as Sym;
    // tfjs's default kernel initialiser (Glorot normal), seeded
    const kernelInitializer = tf.initializers.glorotNormal(this.seed('fc'));
    const logits = tf.layers.dense({ name: 'fc', units: c.classes, kernelInitializer }).apply(x) as Sym;
    return tf.model({ inputs: input, outputs: logits, name: c.name });
  }
}

/** Options of {@link buildModel} (and `createModel`). */
export interface BuildOptions {
  /**
   * Seeds the initial weights (same seed, same weights): every layer's initialisers get seeds derived
   * from it and the layer's name (layers/seeds.ts); unseeded (Math.random) by default.
   */
  seed?: number;
}

/** Builds the network a configuration describes; errors name the model and the field at fault. */
export function buildModel(config: ModelConfig | ResolvedConfig, options: BuildOptions = {}): tf.LayersModel {
  const resolved = 'source' in config ? config : resolveConfig(config);
  const model = new Builder(resolved, options.seed).model();
  foldBatchNormsAtInference(model);
  resolvedOf.set(model, resolved);
  return model;
}

/**
 * A detector's backbone: the network of `config` without the pooling and the classifier, applied to
 * `input` [B, H, W, C_in], giving the output of every group in order, [B, H/s_g, W/s_g, C_g] (for a
 * ResNet C2…C5 at strides s_g = 4, 8, 16, 32). Layers carry the same names as in buildModel, and a
 * `seed` seeds them as buildModel's does.
 */
export function buildGroupOutputs(config: ModelConfig | ResolvedConfig, input: Sym, seed?: number): Sym[] {
  const resolved = 'source' in config ? config : resolveConfig(config);
  const builder = new Builder(resolved, seed);
  const groupEnds = new Set<number>();
  let end = -1;
  for (const count of resolved.source.blocks) {
    end += count;
    groupEnds.add(end);
  }
  const outputs: Sym[] = [];
  let x = builder.stem(input);
  resolved.blocks.forEach((b, i) => {
    x = builder.block(b, x);
    if (groupEnds.has(i)) outputs.push(x);
  });
  return outputs;
}
