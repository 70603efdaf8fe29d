/**
 * `ssn-head` (role combiner): a 1x1 convolution from the U-Net's features to the parameters of a
 * low-rank-plus-diagonal Gaussian over the logit map, per pixel and class: the mean, the log of
 * the diagonal variance (floored) and a rank-r covariance factor (Monteiro et al. 2020, Sec. 3).
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineBlock, defineContract } from '../../compiler/api.js';
import type { BuildContext, Distribution, LayerInfo, RoleContracts, Tensor } from '../../compiler/api.js';
import { featureChannels } from '../builtin/contracts.js';
import { floorLogVariance, lowRankGaussian } from '../toolkit/distributions.js';

const headSchema = Type.Object(
  {
    rank: Type.Integer({ minimum: 1, maximum: 64, default: 10, description: 'Rank r of the covariance factor (the paper: 10).' }),
    diagonal_floor: Type.Number({ exclusiveMinimum: 0, default: 1e-5, description: 'Added to the diagonal variance for stability: D = exp(raw) + floor.' }),
  },
  { additionalProperties: false },
);
type HeadOptions = Static<typeof headSchema>;

/** Role `combiner` of `ssn`: U-Net features [B, H, W, C] -> a distribution over logit maps [B, H, W, K]. */
export interface LogitDistributionHead {
  distribution(features: Tensor): Distribution;
  outputShapes?: Record<string, number[]>;
  layers?: LayerInfo[];
}
export const logitDistributionHead = defineContract<LogitDistributionHead>('logit-distribution-head', 'features [B, H, W, C] -> a distribution over logit maps [B, H, W, K]', {
  distribution: 'function',
  outputShapes: 'object?',
  layers: 'object?',
});

const needs = { unet: featureChannels } satisfies RoleContracts;

function buildHead(ctx: BuildContext<HeadOptions, typeof needs>): LogitDistributionHead {
  const { tf, input, options } = ctx;
  const unet = ctx.blocks.unet;
  const [h, w] = input.size;
  const k = input.classes;
  const r = options.rank;
  const outChannels = k * (2 + r); // mean, log-diagonal, factor
  const kernel = ctx.params.variable('kernel', [1, 1, unet.channels, outChannels], { kind: 'glorot-uniform' }, { regularize: true });
  const bias = ctx.params.variable('bias', [outChannels], { kind: 'zeros' });
  const params = unet.channels * outChannels + outChannels;
  return {
    outputShapes: { mean: [h, w, k], log_diag: [h, w, k], factor: [h, w, k, r] },
    layers: [{ name: 'head', op: 'conv2d', output: [h, w, outChannels], flops: h * w * (2 * unet.channels + 1) * outChannels, params }],
    // Call inside a tidy or a gradient scope: the intermediates are freed with it (disposing
    // them here would cut the gradient tape).
    distribution(features) {
      const [b, fh, fw] = features.shape as number[];
      const out = tf.add(tf.conv2d(features as never, kernel as never, 1, 'same'), bias);
      const [mean, rawDiag, factor] = tf.split(out, [k, k, k * r], 3);
      const logDiag = floorLogVariance(tf, rawDiag!, options.diagonal_floor);
      return lowRankGaussian(tf, mean!, logDiag, tf.reshape(factor!, [b!, fh!, fw!, k, r]));
    },
  };
}

export const ssnHead = defineBlock({
  description: "1x1 conv from the U-Net's features to a low-rank-plus-diagonal Gaussian over the logits (mean, log-diagonal, rank-r factor).",
  roles: ['combiner'],
  options: headSchema,
  needs,
  build: buildHead,
});
