/**
 * The hierarchical model's blocks, one per role:
 *   unet      `resnet-unet`            residual U-Net; its decoder is the prior's decoder (latents join it)
 *   prior     `hierarchical-prior`     per-scale 1x1 heads on the U-Net decoder: p(z_i | z_<i, x)
 *   posterior `hierarchical-posterior` its own residual encoder/decoder on image + mask, per-scale heads
 *   latent    `hierarchical-gaussian`  scales, channels, log-sigma bound; turns head outputs into Gaussians
 *   combiner  `logits-head`            activation + 1x1 conv to class logits
 */
import { defineBlock, defineContract } from '../../compiler/api.js';
import type { Distribution, ParamFactory, RoleContracts, Tensor, Tf } from '../../compiler/api.js';
import { BlockOptionError } from '../../compiler/errors.js';
import { boundLogSigma, diagGaussian, DIAG_GAUSSIAN } from '../toolkit/distributions.js';
import { combinerSchema, geometryOf, latentSchema, posteriorSchema, priorSchema, resnetSchema, scalesProblem, sizeProblem } from './config.js';
import type { ResNetOptions } from './config.js';
import { activate, buildResNetCore, conv2d } from './layers.js';
import type { Conv, ResNetCore } from './layers.js';

/** Raw head output for one scale: mu and the unbounded log sigma, each [B, h, w, C]. */
export interface HeadOutput {
  mu: Tensor;
  rawLogSigma: Tensor;
}

// ---------------------------------------------------------------------------------------------
// Role contracts of the `hierarchical` architecture, and what blocks read of each other

/** Role `latent`: how many scales and channels, and the Gaussian of one scale from its head. */
export interface LatentBlock {
  scales: number;
  channels: number;
  distribution(head: HeadOutput): Distribution;
}
export const hierarchicalLatent = defineContract<LatentBlock>('hierarchical-latent', 'latent scales and channels; a head output -> that scale\'s distribution', {
  scales: 'integer',
  channels: 'integer',
  distribution: 'function',
});

/** What the U-Net and the heads read of the latent block while they build. */
export type LatentScales = Pick<LatentBlock, 'scales' | 'channels'>;
export const latentScales = defineContract<LatentScales>('latent-scales', 'reports the latent scales and channels', { scales: 'integer', channels: 'integer' });

/** Role `unet`: a residual U-Net whose decoder the latents join; its options seed the posterior's. */
export interface UNetBlock {
  core: ResNetCore;
  config: ResNetOptions;
  outputShapes?: Record<string, number[]>;
}
export const residualUNet = defineContract<UNetBlock>('residual-unet', 'a residual U-Net core (encode, decodeLevel) with latents joining its decoder', {
  core: 'object',
  config: 'object',
  outputShapes: 'object?',
});

/** Role `prior`: p(z_s | z_<s, x) heads on the U-Net decoder. */
export interface PriorBlock {
  head(scale: number, features: Tensor): HeadOutput;
  outputShapes?: Record<string, number[]>;
}
export const scaleHeads = defineContract<PriorBlock>('scale-heads', 'head(scale, decoder features) -> mu and raw log sigma of that scale', {
  head: 'function',
  outputShapes: 'object?',
});

/** Role `posterior`: its own residual core on image + mask, with heads per scale. */
export interface PosteriorBlock {
  core: ResNetCore;
  /** The posterior's input: image channels then the encoded mask. */
  input(images: Tensor, masks: Tensor): Tensor;
  head(scale: number, features: Tensor): HeadOutput;
}
export const posteriorNet = defineContract<PosteriorBlock>('posterior-net', 'a residual core on input(images, masks) with head(scale, features) per latent scale', {
  core: 'object',
  input: 'function',
  head: 'function',
});

/** Role `combiner`: last decoder features -> class logits. */
export interface CombinerBlock {
  apply(features: Tensor): Tensor;
  outputShapes?: Record<string, number[]>;
}
export const logitsFromFeatures = defineContract<CombinerBlock>('logits-from-features', 'features [B, H, W, C] -> logits [B, H, W, K]', {
  apply: 'function',
  outputShapes: 'object?',
});

// ---------------------------------------------------------------------------------------------
// Blocks

/** One 1x1 conv per scale producing 2C channels: mu, then raw log sigma. */
function buildHeads(tf: Tf, params: ParamFactory, widthAtScale: (s: number) => number, scales: number, channels: number, gain: number) {
  const heads: Conv[] = [];
  for (let s = 0; s < scales; s++) heads.push(conv2d(tf, params, `scale${s}`, 1, widthAtScale(s), 2 * channels, gain));
  return (scale: number, features: Tensor): HeadOutput => {
    const head = heads[scale];
    if (!head) throw new Error(`no latent head for scale ${scale} (there are ${scales})`);
    const [mu, rawLogSigma] = tf.split(head.apply(features), 2, 3);
    return { mu: mu!, rawLogSigma: rawLogSigma! };
  };
}

const unetNeeds = { latent: latentScales } satisfies RoleContracts;

export const resnetUnet = defineBlock({
  description: 'residual U-Net (pre-activation blocks, avg-pool down, nearest x2 up, orthogonal init); hierarchical latents join its decoder',
  options: resnetSchema,
  roles: ['unet'],
  needs: unetNeeds,
  check(options, { input }) {
    const problem = sizeProblem(options.widths.length, input.size);
    return problem ? [{ option: 'widths', at: 'input.size', code: 'E401', message: problem }] : [];
  },
  build(ctx): UNetBlock {
    const levels = ctx.options.widths.length;
    const tooMany = scalesProblem(levels, ctx.blocks.latent.scales);
    if (tooMany) throw new BlockOptionError('widths', tooMany);
    const tooSmall = sizeProblem(levels, ctx.input.size);
    if (tooSmall) throw new BlockOptionError('widths', tooSmall);
    const geometry = geometryOf(levels, ctx.blocks.latent, ctx.input.size);
    const core = buildResNetCore(ctx.tf, ctx.params, ctx.options, ctx.input.channels, geometry.latentChannelsAt);
    const [H, W] = ctx.input.size;
    // Per level, for `punet inspect`.
    const outputShapes = Object.fromEntries(ctx.options.widths.map((w, l) => [`level${l}`, [H / 2 ** l, W / 2 ** l, w]]));
    return { core, config: ctx.options, outputShapes };
  },
});

const headNeeds = { unet: residualUNet, latent: latentScales } satisfies RoleContracts;

export const hierarchicalPrior = defineBlock({
  description: 'conditional priors p(z_i | z_<i, x): a 1x1 mu/log-sigma head per latent scale on the U-Net decoder',
  options: priorSchema,
  roles: ['prior'],
  needs: headNeeds,
  build(ctx): PriorBlock {
    const { unet, latent } = ctx.blocks;
    const g = geometryOf(unet.core.levels, latent, ctx.input.size);
    const head = buildHeads(ctx.tf, ctx.params, (s) => unet.core.widths[g.levelOfScale(s)]!, g.scales, g.channels, ctx.options.head_init_gain);
    const outputShapes = Object.fromEntries(Array.from({ length: g.scales }, (_, s) => [`z${s}`, [...g.scaleSize(s), g.channels]]));
    return { head, outputShapes };
  },
});

export const hierarchicalPosterior = defineBlock({
  description: 'posterior q(z_i | z_<i, x, y): its own residual encoder/decoder on image + mask, a head per latent scale',
  options: posteriorSchema,
  roles: ['posterior'],
  needs: headNeeds,
  build(ctx): PosteriorBlock {
    const { tf } = ctx;
    const { unet, latent } = ctx.blocks;
    const own = ctx.options;
    const core: ResNetOptions = {
      widths: own.widths ?? unet.config.widths,
      blocks_per_level: own.blocks_per_level ?? unet.config.blocks_per_level,
      convs_per_block: own.convs_per_block ?? unet.config.convs_per_block,
      activation: own.activation ?? unet.config.activation,
      init_gain: own.init_gain ?? unet.config.init_gain,
    };
    if (core.widths.length !== unet.core.levels) {
      throw new BlockOptionError('widths', `posterior.widths has ${core.widths.length} levels but unet.widths has ${unet.core.levels}: the latent scales must line up`);
    }
    const g = geometryOf(unet.core.levels, latent, ctx.input.size);
    const classes = ctx.input.classes;
    const finestLatentLevel = g.levelOfScale(g.scales - 1);
    const net = buildResNetCore(tf, ctx.params, core, ctx.input.channels + classes, g.latentChannelsAt, finestLatentLevel);
    const head = buildHeads(tf, ctx.params.scope('heads'), (s) => core.widths[g.levelOfScale(s)]!, g.scales, g.channels, own.head_init_gain);
    const shift = own.mask_encoding === 'onehot-shifted' ? 0.5 : 0;
    return {
      core: net,
      input(images, masks) {
        let onehot = tf.oneHot(tf.cast(masks, 'int32') as never, classes).toFloat() as Tensor;
        if (shift) onehot = tf.sub(onehot, shift);
        return tf.concat([images, onehot], 3);
      },
      head,
    };
  },
});

export const hierarchicalGaussian = defineBlock({
  description: 'spatial Gaussian latents at several scales, conditioned coarse to fine (Kohl et al. 2019)',
  options: latentSchema,
  roles: ['latent'],
  family: DIAG_GAUSSIAN,
  build(ctx): LatentBlock {
    const { tf } = ctx;
    const { scales, channels, log_sigma_bound } = ctx.options;
    return { scales, channels, distribution: (head) => diagGaussian(tf, head.mu, boundLogSigma(tf, head.rawLogSigma, log_sigma_bound)) };
  },
});

export const logitsHead = defineBlock({
  description: 'class logits from the last decoder features: activation, then a 1x1 convolution',
  options: combinerSchema,
  roles: ['combiner'],
  needs: { unet: residualUNet },
  build(ctx): CombinerBlock {
    const { tf } = ctx;
    const { config } = ctx.blocks.unet;
    const conv = conv2d(tf, ctx.params, 'logits', 1, config.widths[0]!, ctx.input.classes, ctx.options.init_gain);
    return { outputShapes: { logits: [...ctx.input.size, ctx.input.classes] }, apply: (features) => conv.apply(activate(tf, features, config.activation)) };
  },
});

export const blocks = {
  'resnet-unet': resnetUnet,
  'hierarchical-prior': hierarchicalPrior,
  'hierarchical-posterior': hierarchicalPosterior,
  'hierarchical-gaussian': hierarchicalGaussian,
  'logits-head': logitsHead,
};
