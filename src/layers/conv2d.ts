/**
 * Conv2D: the networks' k×k convolution without bias, x [B, H, W, C] → [B, ⌈H/s⌉, ⌈W/s⌉, filters]
 * ('same' padding, TF-style), kernel [k, k, C, filters] initialised He normal with fan-out: a
 * normal distribution with std √(2 / (k²·filters)), torchvision's ResNet initialisation
 * (`kaiming_normal_(mode='fan_out')`). Not tfjs's varianceScaling 'normal', which draws a normal
 * truncated at 2 std and so has 0.88 of that std.
 *
 * Why not tfjs-layers' Conv2D: it calls `tf.fused.conv2d`, whose custom gradient computes the
 * gradients of x and of the kernel together, so the stem pays for a gradient of the image that
 * nothing uses (at 224×224 a 7×7 backward-data pass over [B, 224, 224, 3]). `tf.conv2d` has one
 * gradient per input and the tape skips the one no weight depends on, as PyTorch does.
 */
import * as tf from '../tf.js';
import { seedOf } from './seeds.js';

/**
 * Constructor arguments of the {@link Conv2D} layer: filters, kernel side k and stride s (x [B, H, W, C] →
 * [B, ⌈H/s⌉, ⌈W/s⌉, filters], 'same' padding, no bias), a seed, and tfjs-layers' base layer arguments.
 */
export interface Conv2DArgs {
  filters: number;
  /** Side k of the square kernel. */
  kernelSize: number;
  /** 1 or 2. Default 1. */
  strides?: number;
  /** Seeds the initial kernel (layers/seeds.ts); unseeded by default. */
  seed?: number;
  name?: string;
  trainable?: boolean;
  inputShape?: number[];
  batchInputShape?: number[];
}

const CLASS = 'SasaConv2D';

/** k×k convolution without bias, 'same' padding: x [B, H, W, C] → [B, ⌈H/s⌉, ⌈W/s⌉, filters], He-normal (fan-out) kernel. */
export class Conv2D extends tf.layers.Layer {
  static className = CLASS;
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  private readonly seed?: number;
  private kernel?: tf.LayerVariable;

  constructor(args: Conv2DArgs) {
    super(args);
    const positive = (field: string, v: unknown) => {
      if (!Number.isInteger(v) || (v as number) < 1)
        throw new Error(`${CLASS} '${this.name}': ${field} must be a positive integer, got ${String(v)}`);
    };
    positive('filters', args.filters);
    positive('kernelSize', args.kernelSize);
    positive('strides', args.strides ?? 1);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (shape.length !== 4 || c === null || c === undefined)
      throw new Error(`${CLASS} '${this.name}': expected input [B, H, W, C] with C known, got [${shape}]`);
    const stddev = Math.sqrt(2 / (this.kernelSize ** 2 * this.filters));
    const init = tf.initializers.randomNormal({ stddev, ...seedOf(this.seed, 'kernel') });
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.kernelSize, c, this.filters], 'float32', init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.conv2d(x, (this.kernel as tf.LayerVariable).read() as tf.Tensor4D, this.strides, 'same');
  }

  /** The kernel's current value [k, k, C, filters]. */
  kernelValue(): tf.Tensor4D {
    return (this.kernel as tf.LayerVariable).read() as tf.Tensor4D;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const down = (d: number | null) => (d === null ? null : Math.ceil(d / this.strides));
    return [shape[0], down(shape[1]), down(shape[2]), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides };
  }
}

tf.serialization.registerClass(Conv2D);
