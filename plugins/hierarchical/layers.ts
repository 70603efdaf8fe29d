/**
 * Layers of the hierarchical model, built on the plugin API's ParamFactory: 2D convolutions,
 * pre-activation residual blocks, and the residual U-Net "core" (encoder + decoder with room for
 * latents) that both the U-Net and the posterior use. No tfjs import: `tf` comes from the context.
 */
import type { ParamFactory, Tensor, Tf } from '../../compiler/api.js';
import type { Activation, ResNetOptions } from './config.js';

export function activate(tf: Tf, x: Tensor, kind: Activation): Tensor {
  if (kind === 'elu') return tf.elu(x);
  if (kind === 'leaky-relu') return tf.leakyRelu(x, 0.2);
  return tf.relu(x);
}

export interface Conv {
  apply(x: Tensor): Tensor;
}

/** A stride-1 SAME convolution with bias; kernels orthogonal-initialised and weight-decayed. */
export function conv2d(tf: Tf, params: ParamFactory, name: string, size: number, cin: number, cout: number, gain: number): Conv {
  const scope = params.scope(name);
  const kernel = scope.variable('kernel', [size, size, cin, cout], { kind: 'orthogonal', gain }, { regularize: true });
  const bias = scope.variable('bias', [cout], { kind: 'zeros' });
  return {
    apply: (x) => tf.add(tf.conv2d(x as never, kernel as never, 1, 'same'), bias),
  };
}

/**
 * Pre-activation residual block: h = conv(act(... conv(act(x)))), out = skip(x) + h, with a
 * 1x1 projection on the skip when the channel count changes.
 */
export function residualBlock(tf: Tf, params: ParamFactory, cin: number, cout: number, opts: ResNetOptions): Conv {
  const convs: Conv[] = [];
  for (let j = 0; j < opts.convs_per_block; j++) {
    convs.push(conv2d(tf, params, `conv${j}`, 3, j === 0 ? cin : cout, cout, opts.init_gain));
  }
  const skip = cin === cout ? undefined : conv2d(tf, params, 'skip', 1, cin, cout, opts.init_gain);
  return {
    apply: (x) => {
      let h = x;
      for (const conv of convs) h = conv.apply(activate(tf, h, opts.activation));
      return tf.add(skip ? skip.apply(x) : x, h);
    },
  };
}

function stage(tf: Tf, params: ParamFactory, cin: number, cout: number, opts: ResNetOptions): Conv {
  const blocks: Conv[] = [];
  for (let b = 0; b < opts.blocks_per_level; b++) {
    blocks.push(residualBlock(tf, params.scope(`block${b}`), b === 0 ? cin : cout, cout, opts));
  }
  return { apply: (x) => blocks.reduce((h, block) => block.apply(h), x) };
}

/** A residual U-Net: `encode` gives one feature map per level; `decodeLevel` climbs one level. */
export interface ResNetCore {
  readonly widths: number[];
  readonly levels: number;
  /** Features per level, level 0 at full resolution, level L-1 the bottom. */
  encode(x: Tensor): Tensor[];
  /**
   * Level `level`'s decoder stage: nearest x2 upsampling of `below` (level+1's features, with
   * that level's latents already concatenated), concat with the skip, residual blocks.
   */
  decodeLevel(level: number, below: Tensor, skip: Tensor): Tensor;
}

/**
 * @param inputChannels channels of what `encode` receives
 * @param latentChannelsAt latent channels concatenated to level l's features before upsampling
 * @param decodeDownTo the finest level with a decoder stage (the posterior stops at its finest latent)
 */
export function buildResNetCore(
  tf: Tf,
  params: ParamFactory,
  opts: ResNetOptions,
  inputChannels: number,
  latentChannelsAt: (level: number) => number,
  decodeDownTo = 0,
): ResNetCore {
  const { widths } = opts;
  const levels = widths.length;
  const encoder = widths.map((w, l) => stage(tf, params.scope(`encoder/level${l}`), l === 0 ? inputChannels : widths[l - 1]!, w, opts));
  const decoder = new Map<number, Conv>();
  for (let l = levels - 2; l >= decodeDownTo; l--) {
    const cin = widths[l + 1]! + latentChannelsAt(l + 1) + widths[l]!;
    decoder.set(l, stage(tf, params.scope(`decoder/level${l}`), cin, widths[l]!, opts));
  }
  return {
    widths,
    levels,
    encode(x) {
      const features: Tensor[] = [];
      let h = x;
      for (let l = 0; l < levels; l++) {
        if (l > 0) h = tf.avgPool(h as never, 2, 2, 'valid');
        h = encoder[l]!.apply(h);
        features.push(h);
      }
      return features;
    },
    decodeLevel(level, below, skip) {
      const stageAt = decoder.get(level);
      if (!stageAt) throw new Error(`this core has no decoder stage at level ${level}`);
      const [, h, w] = below.shape as number[];
      const up = tf.image.resizeNearestNeighbor(below as never, [h! * 2, w! * 2]);
      return stageAt.apply(tf.concat([up, skip], 3));
    },
  };
}
