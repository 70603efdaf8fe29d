/**
 * The hierarchical model's blocks, one per role:
 *   unet      `resnet-unet`            residual U-Net; its decoder is the prior's decoder (latents join it)
 *   prior     `hierarchical-prior`     per-scale 1x1 heads on the U-Net decoder: p(z_i | z_<i, x)
 *   posterior `hierarchical-posterior` its own residual encoder/decoder on image + mask, per-scale heads
 *   latent    `hierarchical-gaussian`  scales, channels, log-sigma bound; turns head outputs into Gaussians
 *   combiner  `logits-head`            activation + 1x1 conv to class logits
 */
import type { BlockContribution, BuildContext, Distribution, ParamFactory, Tensor, Tf } from '../../compiler/api.js';
import {
  combinerSchema,
  hierarchyOf,
  latentSchema,
  posteriorSchema,
  priorSchema,
  resnetSchema,
  withDefaults,
} from './config.js';
import type { Activation, CombinerOptions, HeadOptions, LatentOptions, PosteriorOptions, ResNetOptions } from './config.js';
import { activate, buildResNetCore, conv2d } from './layers.js';
import type { Conv, ResNetCore } from './layers.js';
import { boundLogSigma, diagGaussian } from './distribution.js';

/** Raw head output for one scale: mu and the unbounded log sigma, each [B, h, w, C]. */
export interface HeadOutput {
  mu: Tensor;
  rawLogSigma: Tensor;
}

export interface UNetBlock {
  kind: 'resnet-unet';
  core: ResNetCore;
  /** Without latents: encode, decode to full resolution, [B, H, W, widths[0]] features. */
  apply(images: Tensor): Tensor;
  [member: string]: unknown;
}

export interface PriorBlock {
  kind: 'hierarchical-prior';
  head(scale: number, features: Tensor): HeadOutput;
  [member: string]: unknown;
}

export interface PosteriorBlock {
  kind: 'hierarchical-posterior';
  core: ResNetCore;
  /** The posterior's input: image channels then the encoded mask. */
  input(images: Tensor, masks: Tensor): Tensor;
  head(scale: number, features: Tensor): HeadOutput;
  [member: string]: unknown;
}

export interface LatentBlock {
  kind: 'hierarchical-gaussian';
  scales: number;
  channels: number;
  distribution(head: HeadOutput): Distribution;
  [member: string]: unknown;
}

export interface CombinerBlock {
  kind: 'logits-head';
  apply(features: Tensor): Tensor;
  [member: string]: unknown;
}

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

export const resnetUnet: BlockContribution<ResNetOptions, UNetBlock> = {
  description: 'residual U-Net (pre-activation blocks, avg-pool down, nearest x2 up, orthogonal init); hierarchical latents join its decoder',
  options: resnetSchema,
  roles: ['unet'],
  build(ctx: BuildContext<ResNetOptions>) {
    const { tf } = ctx;
    const hierarchical = ctx.spec.latent?.kind === 'hierarchical-gaussian';
    const latentChannelsAt = hierarchical ? hierarchyOf(ctx.spec).latentChannelsAt : () => 0;
    const core = buildResNetCore(tf, ctx.params, ctx.options, ctx.input.channels, latentChannelsAt);
    const [H, W] = ctx.input.size;
    return {
      kind: 'resnet-unet',
      core,
      // Per level, for `punet inspect`.
      outputShapes: Object.fromEntries(ctx.options.widths.map((w, l) => [`level${l}`, [H / 2 ** l, W / 2 ** l, w]])),
      apply(images) {
        if (hierarchical) throw new Error("'apply' decodes without latents; with hierarchical latents use the 'hierarchical' architecture");
        const skips = core.encode(images);
        let h = skips[core.levels - 1]!;
        for (let l = core.levels - 2; l >= 0; l--) h = core.decodeLevel(l, h, skips[l]!);
        return h;
      },
    };
  },
};

export const hierarchicalPrior: BlockContribution<HeadOptions, PriorBlock> = {
  description: 'conditional priors p(z_i | z_<i, x): a 1x1 mu/log-sigma head per latent scale on the U-Net decoder',
  options: priorSchema,
  roles: ['prior'],
  build(ctx) {
    const h = hierarchyOf(ctx.spec);
    const head = buildHeads(ctx.tf, ctx.params, (s) => h.unet.widths[h.levelOfScale(s)]!, h.latent.scales, h.latent.channels, ctx.options.head_init_gain);
    return { kind: 'hierarchical-prior', head };
  },
};

export const hierarchicalPosterior: BlockContribution<PosteriorOptions, PosteriorBlock> = {
  description: 'posterior q(z_i | z_<i, x, y): its own residual encoder/decoder on image + mask, a head per latent scale',
  options: posteriorSchema,
  roles: ['posterior'],
  build(ctx) {
    const { tf } = ctx;
    const h = hierarchyOf(ctx.spec);
    const core: ResNetOptions = {
      widths: ctx.options.widths ?? h.unet.widths,
      blocks_per_level: ctx.options.blocks_per_level ?? h.unet.blocks_per_level,
      convs_per_block: ctx.options.convs_per_block ?? h.unet.convs_per_block,
      activation: (ctx.options.activation ?? h.unet.activation) as Activation,
      init_gain: ctx.options.init_gain ?? h.unet.init_gain,
    };
    if (core.widths.length !== h.levels) {
      throw new Error(`posterior.widths has ${core.widths.length} levels but unet.widths has ${h.levels}: the latent scales must line up`);
    }
    const classes = ctx.input.classes;
    const finestLatentLevel = h.levelOfScale(h.latent.scales - 1);
    const net = buildResNetCore(tf, ctx.params, core, ctx.input.channels + classes, h.latentChannelsAt, finestLatentLevel);
    const head = buildHeads(tf, ctx.params.scope('heads'), (s) => core.widths[h.levelOfScale(s)]!, h.latent.scales, h.latent.channels, ctx.options.head_init_gain);
    const shift = ctx.options.mask_encoding === 'onehot-shifted' ? 0.5 : 0;
    return {
      kind: 'hierarchical-posterior',
      core: net,
      input(images, masks) {
        let onehot = tf.oneHot(tf.cast(masks, 'int32') as never, classes).toFloat() as Tensor;
        if (shift) onehot = tf.sub(onehot, shift);
        return tf.concat([images, onehot], 3);
      },
      head,
    };
  },
};

export const hierarchicalGaussian: BlockContribution<LatentOptions, LatentBlock> = {
  description: 'spatial Gaussian latents at several scales, conditioned coarse to fine (Kohl et al. 2019)',
  options: latentSchema,
  roles: ['latent'],
  build(ctx) {
    const { tf } = ctx;
    const { scales, channels, log_sigma_bound } = ctx.options;
    const h = hierarchyOf(ctx.spec);
    return {
      kind: 'hierarchical-gaussian',
      scales,
      channels,
      outputShapes: Object.fromEntries(Array.from({ length: scales }, (_, s) => [`z${s}`, [...h.scaleSize(s), channels]])),
      distribution: (head) => diagGaussian(tf, head.mu, boundLogSigma(tf, head.rawLogSigma, log_sigma_bound)),
    };
  },
};

export const logitsHead: BlockContribution<CombinerOptions, CombinerBlock> = {
  description: 'class logits from the last decoder features: activation, then a 1x1 convolution',
  options: combinerSchema,
  roles: ['combiner'],
  build(ctx) {
    const { tf } = ctx;
    const unet = withDefaults<ResNetOptions>(resnetSchema, ctx.spec.unet?.kind === 'resnet-unet' ? ctx.spec.unet : undefined);
    const conv = conv2d(tf, ctx.params, 'logits', 1, unet.widths[0]!, ctx.input.classes, ctx.options.init_gain);
    return { kind: 'logits-head', outputShapes: { logits: [...ctx.input.size, ctx.input.classes] }, apply: (features) => conv.apply(activate(tf, features, unet.activation)) };
  },
};

export const blocks = {
  'resnet-unet': resnetUnet,
  'hierarchical-prior': hierarchicalPrior,
  'hierarchical-posterior': hierarchicalPosterior,
  'hierarchical-gaussian': hierarchicalGaussian,
  'logits-head': logitsHead,
};
