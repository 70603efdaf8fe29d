/**
 * Loss `top-k-cross-entropy` (Kohl et al. 2019): only the k = fraction x (batch pixels) pixels
 * with the largest cross-entropy count. Selection is deterministic (largest CE) by default, or
 * stochastic with the Gumbel-top-k trick (k pixels drawn without replacement, probability
 * proportional to their CE). The selection itself carries no gradient. An optional warm-up starts
 * from full cross-entropy: top-k from a random init settles at p = 0.5 on every counted pixel.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../../compiler/api.js';
import type { LossContribution, Tensor, Tf } from '../../compiler/api.js';
import { mixSeed } from './distribution.js';

const topKSchema = Type.Object(
  {
    fraction: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.02 }),
    selection: StringEnum(['deterministic', 'gumbel'], { default: 'deterministic' }),
    reduction: StringEnum(['sum-per-image', 'mean'], {
      default: 'sum-per-image',
      description: 'sum-per-image: sum over selected pixels / batch size (like cross-entropy sum-per-image); mean: / k.',
    }),
    seed: Type.Integer({ minimum: 0, default: 0, description: 'Seed of the Gumbel noise when the runtime gives none.' }),
    warmup_steps: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'Start from full cross-entropy and shrink the counted fraction log-linearly to `fraction` over this many steps (top-k from a random init stalls at p = 0.5). 0 = off.',
    }),
  },
  { additionalProperties: false },
);
export type TopKOptions = Static<typeof topKSchema>;

/**
 * The fraction of pixels counted after `step` steps: log-linear from 1 to `fraction` over
 * `warmup_steps` (each step shrinks k by the same factor), then `fraction`. Outside training
 * (no step) the final fraction.
 */
export function topKFraction(options: Pick<TopKOptions, 'fraction' | 'warmup_steps'>, step: number | undefined): number {
  if (step === undefined || options.warmup_steps <= 0 || step >= options.warmup_steps) return options.fraction;
  return options.fraction ** (step / options.warmup_steps);
}

/** k for `pixels` batch pixels: round(fraction * pixels), at least 1, at most all of them. */
export function topKCount(pixels: number, fraction: number): number {
  return Math.min(pixels, Math.max(1, Math.round(fraction * pixels)));
}

/** Per-pixel softmax cross-entropy, flattened to [B*H*W]. */
export function pixelCrossEntropy(tf: Tf, logits: Tensor, labels: Tensor): Tensor {
  const classes = logits.shape[logits.rank - 1]!;
  const onehot = tf.oneHot(tf.reshape(tf.cast(labels, 'int32'), [-1]) as never, classes);
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, classes]) as never);
  return tf.neg(tf.sum(tf.mul(onehot, logp), 1));
}

/**
 * A 0/1 mask [N] with exactly k ones at the largest `scores`. Computed inside a custom-gradient
 * op so neither topk (no gradient in tfjs) nor the mask enters the gradient tape.
 */
export function topKMask(tf: Tf, scores: Tensor, k: number): Tensor {
  const n = scores.shape[0]!;
  const select = tf.customGrad(((s: Tensor) => ({
    value: tf.tidy(() => {
      const { indices } = tf.topk(s as never, k, true);
      return tf.scatterND(tf.expandDims(indices, 1), tf.ones([k]), [n]);
    }),
    gradFunc: (dy: Tensor) => tf.zerosLike(dy),
  })) as never);
  return select(scores) as Tensor;
}

export function topKCrossEntropy(): LossContribution<TopKOptions> {
  let calls = 0;
  return {
    description: 'cross-entropy over only the k = fraction of batch pixels with the largest loss (top-k masking)',
    options: topKSchema,
    compute(ctx) {
      const { tf, options, logits, labels } = ctx;
      const seed = (ctx as { seed?: number }).seed ?? mixSeed(options.seed, calls++);
      return tf.tidy(() => {
        const ce = pixelCrossEntropy(tf, logits, labels);
        const target = topKCount(ce.shape[0]!, options.fraction);
        const k = topKCount(ce.shape[0]!, topKFraction(options, ctx.step));
        const scores =
          options.selection === 'gumbel'
            ? // log(CE) + Gumbel noise: top-k of it samples pixels without replacement, p ~ CE.
              tf.add(tf.log(tf.add(ce, 1e-12)), gumbel(tf, ce.shape[0]!, seed))
            : ce;
        const selected = tf.sum(tf.mul(ce, topKMask(tf, scores, k)));
        // During a warm-up k > target: rescale to `target` pixels so the term keeps its final
        // units (a GECO constraint on it holds its meaning while k shrinks).
        const divisor = options.reduction === 'mean' ? k : (logits.shape[0]! * k) / target;
        return tf.div(selected, divisor) as Tensor as never;
      });
    },
  };
}

function gumbel(tf: Tf, n: number, seed: number): Tensor {
  const u = tf.randomUniform([n], 1e-7, 1 - 1e-7, 'float32', seed);
  return tf.neg(tf.log(tf.neg(tf.log(u))));
}
