/**
 * Layer helpers shared by the built-in blocks: convolutions with their variables, and a record
 * of every layer's static output shape and FLOPs. `tf` is passed in (never imported here) so
 * plugin modules that use these stay cheap to load.
 */
import type { Initializer, LayerInfo, ParamFactory, Tensor, Tf, Variable } from '../../compiler/api.js';
import { RELU_CONV_BACKPROP_FILTER, RELU_CONV_BACKPROP_INPUT } from '../../runtime/backends/native-kernel-names.js';

export type { LayerInfo };

export type Activation = 'relu' | 'elu' | 'linear';
export type WeightInit = 'he-normal-truncated' | 'orthogonal' | 'glorot-uniform';


export function weightInitializer(init: WeightInit): Initializer {
  return { kind: init };
}

/** Bias init: truncated normal of the given std (0 means zeros). */
export function biasInitializer(std: number): Initializer {
  return std > 0 ? { kind: 'truncated-normal', std } : { kind: 'zeros' };
}

export interface ConvLayer {
  kernel: Variable;
  bias: Variable;
  kernelSize: number;
  inChannels: number;
  outChannels: number;
  /** x [N, H, W, inChannels] -> [N, H, W, outChannels], stride 1, SAME padding. */
  apply(x: Tensor, activation: Activation): Tensor;
}

export interface ConvConfig {
  kernelSize: number;
  inChannels: number;
  outChannels: number;
  init: Initializer;
  bias: Initializer;
}

/** A conv with `${name}/kernel` (regularised) and `${name}/bias`. */
export function createConv(tf: Tf, params: ParamFactory, name: string, c: ConvConfig): ConvLayer {
  const scope = params.scope(name);
  const kernel = scope.variable('kernel', [c.kernelSize, c.kernelSize, c.inChannels, c.outChannels], c.init, { regularize: true });
  const bias = scope.variable('bias', [c.outChannels], c.bias);
  return {
    kernel,
    bias,
    kernelSize: c.kernelSize,
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    apply(x, activation) {
      return fusedConv(tf, x, kernel, bias, activation);
    },
  };
}

/** activation(conv(x, filter) + bias), stride 1, SAME padding, as one FusedConv2D kernel (differentiable: see below). */
export function fusedConv(tf: Tf, x: Tensor, filter: Tensor, bias: Tensor, activation: Activation): Tensor {
  registerFusedConvGradient(tf);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation };
  return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, attrs as never) as Tensor;
}

/**
 * Gradient of the FusedConv2D kernel (conv + bias + relu, elu or linear), so the fused kernel runs
 * under gradient recording too: tfjs's own fused op falls back to three separate ops (conv, add,
 * relu) there, each taped and each with its own backward ops. The backward ops are the ones those
 * three would run (relu: dy * step(y), y > 0 exactly where the pre-activation is; elu: EluGrad,
 * which needs only y; bias: a sum over N, H, W; conv: the two backprop kernels), and tfjs calls
 * each input's gradient only when that input needs one (never the input image's).
 */
function registerFusedConvGradient(tf: Tf): void {
  if (tf.getGradient('FusedConv2D')) return;
  tf.registerGradient({
    kernelName: 'FusedConv2D',
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
      const a = attrs as unknown as { strides: number; pad: string; dataFormat: string; dimRoundingMode?: string; activation: Activation };
      const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
      const has = (kernel: string) => tf.getKernel(kernel, tf.getBackend()) !== undefined;
      if (a.activation === 'relu' && has(RELU_CONV_BACKPROP_INPUT) && has(RELU_CONV_BACKPROP_FILTER)) {
        // Native: the convolutions read dy masked by y > 0 themselves (dy * relu'(y) is never
        // written out), and the filter's kernel sums the bias gradient on the way. tfjs asks for
        // x, filter, bias in that order; punet's backward pass (frugal-gradients.ts) runs them in
        // one scope, so that sum is alive for the bias; tfjs's own tidies each one, and then the
        // bias gradient is computed again.
        let db: Tensor | undefined;
        return {
          x: () => tf.engine().runKernel(RELU_CONV_BACKPROP_INPUT, { dy: dy as Tensor, filter, y }, { ...common, inputShape: x.shape } as never) as Tensor,
          filter: () => {
            const [dw, bias] = tf.engine().runKernel(RELU_CONV_BACKPROP_FILTER, { x, dy: dy as Tensor, y }, { ...common, filterShape: filter.shape } as never) as unknown as [Tensor, Tensor];
            db = bias;
            return dw;
          },
          bias: () => (db !== undefined && !db.isDisposed ? db : tf.sum(preActivationGrad(tf, a.activation, dy as Tensor, y), [0, 1, 2])),
        };
      }
      const dz = preActivationGrad(tf, a.activation, dy as Tensor, y);
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, { ...common, inputShape: x.shape } as never) as Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...common, filterShape: filter.shape } as never) as Tensor,
        bias: () => tf.sum(dz, [0, 1, 2]),
      };
    },
  });
}

/** d(loss)/d(pre-activation) from d(loss)/d(y), y = activation(pre-activation), as tfjs's own gradients compute it. */
function preActivationGrad(tf: Tf, activation: string, dy: Tensor, y: Tensor): Tensor {
  switch (activation) {
    case 'linear':
      return dy;
    case 'relu':
      return tf.mul(dy, tf.step(y));
    case 'elu':
      return tf.engine().runKernel('EluGrad', { dy, y }) as Tensor;
    default:
      throw new Error(`FusedConv2D gradient: activation '${activation}' is not supported (relu, elu or linear)`);
  }
}

export function convParams(c: { kernelSize: number; inChannels: number; outChannels: number }): number {
  return c.kernelSize * c.kernelSize * c.inChannels * c.outChannels + c.outChannels;
}

/** FLOPs of a stride-1 SAME conv on an h x w map, plus bias and activation. */
export function convFlops(h: number, w: number, c: { kernelSize: number; inChannels: number; outChannels: number }, activation: Activation): number {
  const out = h * w * c.outChannels;
  return 2 * c.kernelSize * c.kernelSize * c.inChannels * out + out + (activation === 'linear' ? 0 : out);
}

export function applyActivation(tf: Tf, x: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'linear':
      return x;
  }
}

/** Output size of a 2x2 stride-2 SAME pool (K pools with SAME padding: odd sizes round up). */
export function pooledSize(n: number): number {
  return Math.ceil(n / 2);
}

export type DownSampling = 'avgpool' | 'maxpool';

export function downsample(tf: Tf, x: Tensor, down: DownSampling): Tensor {
  const x4 = x as never;
  if (down === 'maxpool') return tf.maxPool(x4, 2, 2, 'same');
  const [, h, w] = x.shape as number[];
  if (h! % 2 === 0 && w! % 2 === 0) return tf.avgPool(x4, 2, 2, 'same');
  return oddAvgPool(tf, x, h!, w!);
}

/**
 * 2x2 stride-2 SAME average pooling of an odd-sized map, averaging over the pixels inside the
 * image (TF semantics): zero-pad bottom/right to even, VALID average (sum / 4), then rescale the
 * edge windows by 4 / (pixels they cover). Written with ops whose gradients are right on every
 * backend: tfjs 4.22's cpu AvgPoolGrad divides edge windows by 4 and gets odd SAME pooling wrong.
 */
function oddAvgPool(tf: Tf, x: Tensor, h: number, w: number): Tensor {
  const ho = pooledSize(h);
  const wo = pooledSize(w);
  const padded = tf.pad(x, [[0, 0], [0, ho * 2 - h], [0, wo * 2 - w], [0, 0]]);
  const scale = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++) {
    for (let j = 0; j < wo; j++) {
      const rows = Math.min(2, h - 2 * i);
      const cols = Math.min(2, w - 2 * j);
      scale[i * wo + j] = 4 / (rows * cols);
    }
  }
  return tf.mul(tf.avgPool(padded as never, 2, 2, 'valid'), tf.tensor4d(scale, [1, ho, wo, 1]));
}

export type UpSampling = 'bilinear' | 'nearest';

/** Resizes to `size` (the skip connection's size), aligning corners as the reference does. */
export function upsample(tf: Tf, x: Tensor, size: [number, number], up: UpSampling): Tensor {
  const x4 = x as never;
  return up === 'bilinear' ? tf.image.resizeBilinear(x4, size, true) : tf.image.resizeNearestNeighbor(x4, size, true);
}
