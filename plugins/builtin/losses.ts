/**
 * Built-in loss terms (Kohl et al. 2018 conventions): softmax cross-entropy summed per image,
 * analytic KL between diagonal Gaussians (optional free bits), rec + beta * KL (optional KL warm-up),
 * L2 weight decay. Each option schema is written once (TypeBox): the JSON Schema the spec is
 * validated against and the static type of `ctx.options`. No TensorFlow.js import: `tf` arrives
 * in ctx.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineContribution, definePlugin, StringEnum } from '../../compiler/api.js';
import type { KLContribution, LossContribution, ObjectiveContribution, ObjectiveState, RegularizerContribution, Scalar, Tensor, Tf, TrainForward } from '../../compiler/api.js';
import { DIAG_GAUSSIAN } from '../toolkit/distributions.js';

const NoOptions = Type.Object({}, { additionalProperties: false });

const CrossEntropySchema = Type.Object(
  {
    reduction: StringEnum(['sum-per-image', 'mean'], {
      default: 'sum-per-image',
      description: 'sum-per-image: sum over pixels, mean over batch (Kohl et al.); mean: mean over pixels and batch.',
    }),
  },
  { additionalProperties: false },
);
type CrossEntropyOptions = Static<typeof CrossEntropySchema>;

const AnalyticKLSchema = Type.Object(
  {
    free_bits: Type.Number({
      minimum: 0,
      default: 0,
      description:
        'Nats per latent dimension that cost nothing: the gradient is that of sum_d max(free_bits, batch-mean KL_d); the value stays the true KL. 0 = off.',
    }),
  },
  { additionalProperties: false },
);

const WeightedSchema = Type.Object(
  {
    beta: Type.Number({ minimum: 0, default: 1, description: 'Weight of the KL term.' }),
    warmup_steps: Type.Integer({ minimum: 0, default: 0, description: 'KL warm-up: the weight rises linearly from 0 to beta over this many steps. 0 = off.' }),
  },
  { additionalProperties: false },
);
export type WeightedOptions = Static<typeof WeightedSchema>;

const L2Schema = Type.Object({ scale: Type.Number({ minimum: 0, default: 1e-5, description: 'Weight decay factor.' }) }, { additionalProperties: false });

/**
 * Softmax cross-entropy. `sum-per-image`: summed over pixels, mean over the batch (the reference
 * convention; with beta = 1 a pixel mean weights KL H*W times more and collapses the posterior).
 */
export function crossEntropy(tf: Tf, logits: Tensor, labels: Tensor, reduction: CrossEntropyOptions['reduction']): Scalar {
  return tf.tidy(() => {
    const k = logits.shape[logits.shape.length - 1]!;
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(tf.cast(labels, 'int32') as never, k);
    const perPixel = tf.neg(tf.sum(tf.mul(logp, onehot), -1));
    if (reduction === 'mean') return tf.mean(perPixel) as Scalar;
    const perImage = tf.sum(tf.reshape(perPixel, [perPixel.shape[0]!, -1]), 1);
    return tf.mean(perImage) as Scalar;
  });
}

type GaussianParams = { mu: Tensor; log_sigma: Tensor };

/** KL(q || p) of diagonal Gaussians from (mu, log sigma), per element: [B, ...] -> [B, ...]. */
export function diagGaussianKLPerDim(tf: Tf, q: GaussianParams, p: GaussianParams): Tensor {
  return tf.tidy(() => {
    const varQ = tf.exp(tf.mul(q.log_sigma, 2));
    const varP = tf.exp(tf.mul(p.log_sigma, 2));
    const sq = tf.square(tf.sub(q.mu, p.mu));
    return tf.sub(tf.add(tf.sub(p.log_sigma, q.log_sigma), tf.div(tf.add(varQ, sq), tf.mul(varP, 2))), 0.5);
  });
}

/** Per latent scale, the KL of every latent dimension of every batch item: [B, D_scale]. */
export function latentKLs(tf: Tf, latents: TrainForward['latents']): Tensor[] {
  return latents.map(({ posterior, prior }, scale) => {
    for (const d of [posterior, prior]) {
      if (d.family !== DIAG_GAUSSIAN) {
        throw new Error(`analytic KL needs ${DIAG_GAUSSIAN} distributions; latent scale ${scale} is '${d.family}'`);
      }
    }
    const perDim = diagGaussianKLPerDim(tf, posterior.params as never, prior.params as never);
    return tf.reshape(perDim, [perDim.shape[0]!, -1]);
  });
}

/**
 * Free bits (Kingma et al. 2016), per latent dimension: sum_d max(lambda, batch mean of KL_d).
 * A dimension under lambda nats gets no gradient, so closing it (the start of posterior
 * collapse) gains the optimiser nothing.
 */
export function freeBitsKL(tf: Tf, perDim: Tensor[], lambda: number): Scalar {
  if (!perDim.length) return tf.scalar(0); // a model without latents (SSN)
  return tf.addN(perDim.map((d) => tf.sum(tf.maximum(tf.mean(d, 0), lambda)))) as Scalar;
}

/** `value` as the value, `surrogate`'s gradient (straight-through), so logs keep the true KL. */
function withGradientOf(tf: Tf, value: Scalar, surrogate: Scalar): Scalar {
  const stopGradient = tf.customGrad(((x: Tensor) => ({ value: tf.clone(x), gradFunc: (dy: Tensor) => tf.zerosLike(dy) })) as never);
  return tf.add(surrogate, stopGradient(tf.sub(value, surrogate)) as Tensor) as Scalar;
}

/** The KL weight after `steps` completed steps: beta * min(1, steps / warmup_steps). */
export function klWeight(options: WeightedOptions, steps: number): number {
  if (options.warmup_steps <= 0) return options.beta;
  return options.beta * Math.min(1, steps / options.warmup_steps);
}

const crossEntropyLoss = defineContribution<LossContribution<CrossEntropyOptions>>()({
  description: 'Softmax cross-entropy; sum-per-image (summed over pixels, mean over batch) or mean.',
  options: CrossEntropySchema,
  compute: ({ tf, options, logits, labels }) => crossEntropy(tf, logits, labels, options.reduction),
});

const analytic = defineContribution<KLContribution<Static<typeof AnalyticKLSchema>>>()({
  description: 'Analytic KL(posterior || prior) of diagonal Gaussians, summed over latent dims and scales, mean over batch; optional free bits per dim.',
  families: [DIAG_GAUSSIAN],
  options: AnalyticKLSchema,
  compute: ({ tf, options, latents }) =>
    tf.tidy(() => {
      const perDim = latentKLs(tf, latents);
      // Summed per image over dims and scales, then the batch mean (the order KL always had).
      const perImage = perDim.reduce<Tensor>((total, d) => tf.add(total, tf.sum(d, 1)), tf.zeros([perDim[0]?.shape[0] ?? 1]));
      const trueKL = tf.mean(perImage) as Scalar;
      return options.free_bits > 0 ? withGradientOf(tf, trueKL, freeBitsKL(tf, perDim, options.free_bits)) : trueKL;
    }),
});

const weighted = defineContribution<ObjectiveContribution<WeightedOptions>>()({
  description: 'loss = reconstruction + beta * KL; beta optionally warmed up linearly from 0 over warmup_steps.',
  options: WeightedSchema,
  // Only a warm-up needs the step count; without one the state stays {} as before.
  initialState: (options): ObjectiveState => (options.warmup_steps > 0 ? { steps: 0 } : {}),
  combine: ({ tf, options, reconstruction, kl, state }) => {
    const weight = klWeight(options, state.steps ?? 0);
    const loss = tf.add(reconstruction, tf.mul(kl, weight)) as Scalar;
    return options.warmup_steps > 0 ? { loss, logs: { kl_weight: tf.scalar(weight) } } : { loss };
  },
  nextState: ({ options, state }) => (options.warmup_steps > 0 ? { ...state, steps: (state.steps ?? 0) + 1 } : state),
});

const l2 = defineContribution<RegularizerContribution<Static<typeof L2Schema>>>()({
  description: 'scale * sum(w^2) / 2 over the regularised weights (conv kernels, not biases).',
  options: L2Schema,
  compute: ({ tf, options, weights }) =>
    tf.tidy(() => {
      if (weights.length === 0) return tf.scalar(0);
      // The gradient, scale * w, written out: one product per weight where autodiff through
      // square and sum runs five kernels per weight (a tenth of the LIDC step's non-conv time).
      const penalty = tf.customGrad(((...args: unknown[]) => {
        const ws = args.slice(0, -1) as Tensor[];
        (args[args.length - 1] as (saved: Tensor[]) => void)(ws);
        const value = tf.mul(tf.addN(ws.map((w) => tf.sum(tf.square(w)))), options.scale / 2);
        const gradFunc = (dy: Tensor, saved: Tensor[]) => {
          const k = tf.mul(dy, options.scale);
          return saved.map((w) => tf.mul(w, k));
        };
        return { value, gradFunc };
      }) as never) as (...ws: Tensor[]) => Tensor;
      return penalty(...weights) as Scalar;
    }),
});

const none = defineContribution<RegularizerContribution>()({
  description: 'No weight regularisation.',
  options: NoOptions,
  compute: ({ tf }) => tf.scalar(0),
});

export default definePlugin({
  name: 'punet-losses',
  version: '0.1.0',
  punetApi: '^2.0.0',
  losses: { 'cross-entropy': crossEntropyLoss },
  klEstimators: { analytic },
  objectives: { weighted },
  regularizers: { l2, none },
});
