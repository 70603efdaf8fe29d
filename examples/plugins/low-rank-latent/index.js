// @ts-check
/**
 * A third-party punet plugin: a low-rank-plus-diagonal Gaussian latent for the flat
 * Probabilistic U-Net, q(z) = N(mu, P P^T + D) with a rank-r factor P, so the latent dimensions
 * can be correlated, and the Monte-Carlo KL estimator that fits it (the built-in `analytic` KL
 * only knows axis-aligned Gaussians):
 *
 *     use "./plugins/low-rank-latent/index.js"
 *     latent low-rank-latent/gaussian { size: 6  rank: 2 }
 *     loss { kl low-rank-latent/mc { samples: 4 } }
 *
 * Plain JavaScript with JSDoc types, written against plugin API 2 (docs/plugins.md): the options
 * are one TypeBox schema that `defineBlock` turns into the type of `ctx.options`; the block fills
 * the `latent` contract of `prob-unet` (section 6); the distribution is punet's shared
 * `lowRankGaussian`. Tensors come from ctx.tf.
 */
import { Type } from '@sinclair/typebox';
import { defineBlock, definePlugin, floorLogVariance, lowRankGaussian, LOW_RANK_GAUSSIAN } from 'punet';

/** @typedef {import('punet').Tensor} Tensor */

const latentOptions = Type.Object(
  {
    size: Type.Integer({ minimum: 1, default: 6, description: 'Latent dimensions M.' }),
    rank: Type.Integer({ minimum: 1, default: 2, description: 'Rank r of the covariance factor.' }),
    diagonal_floor: Type.Number({ exclusiveMinimum: 0, default: 1e-4, description: 'Added to the diagonal variance: D = exp(raw) + floor.' }),
    head_init_std: Type.Number({ minimum: 0, default: 0.001, description: "Std of the truncated-normal init of the encoders' head biases." }),
  },
  { additionalProperties: false },
);

/** Role `latent` of `prob-unet`: `conv-encoder` reads headChannels and headBiasStd, `fcomb` eventShape. */
const gaussian = defineBlock({
  description: 'Gaussian latent of size M with covariance P P^T + D (rank r): mean, log-diagonal and factor from the encoder head.',
  roles: ['latent'],
  // KL estimators that declare the families they handle (the built-in `analytic`) are checked against it.
  family: LOW_RANK_GAUSSIAN,
  options: latentOptions,
  check: (o) => (o.rank > o.size ? [{ option: 'rank', message: `must be <= size (${o.size}), got ${o.rank}` }] : []),
  /** @returns {import('punet').LatentBlock} */
  build({ tf, options: o }) {
    const m = o.size;
    const r = o.rank;
    return {
      headChannels: m * (2 + r),
      headBiasStd: o.head_init_std,
      eventShape: [m],
      outputShapes: { mu: [m], log_diag: [m], factor: [m, r] },
      layers: [],
      /** @param {Tensor} head [B, M (2 + r)] */
      distribution(head) {
        const batch = /** @type {number} */ (head.shape[0]);
        const [mu, raw, factor] = /** @type {[Tensor, Tensor, Tensor]} */ (tf.split(head, [m, m, m * r], 1));
        // Every tensor the distribution reads is in its params: the architecture keeps only those.
        return lowRankGaussian(tf, mu, floorLogVariance(tf, raw, o.diagonal_floor), tf.reshape(factor, [batch, m, r]));
      },
    };
  },
});

/**
 * KL(q || p) = E_q[log q(z) - log p(z)], estimated with `samples` reparameterised draws from the
 * posterior (so it has gradients), summed over latent scales, mean over the batch. It needs only
 * `sample` and `logProb`, which every Distribution has: no `families`, so it fits any latent.
 * @type {import('punet').KLContribution<{ samples: number }>}
 */
const mc = {
  description: 'Monte-Carlo KL(posterior || prior) from reparameterised posterior samples; any distribution family.',
  options: Type.Object(
    { samples: Type.Integer({ minimum: 1, maximum: 1000, default: 4, description: 'Posterior samples per image.' }) },
    { additionalProperties: false },
  ),
  compute({ tf, options, latents, seed }) {
    return tf.tidy(() => {
      const perScale = latents.map(({ posterior: q, prior: p }, scale) => {
        const z = q.sample(options.samples, seed + scale);
        return tf.mean(tf.sub(q.logProb(z), p.logProb(z)), 1); // [B]
      });
      return /** @type {import('punet').Scalar} */ (perScale.length ? tf.mean(tf.addN(perScale)) : tf.scalar(0));
    });
  },
};

export default definePlugin({
  name: 'low-rank-latent',
  version: '2.0.0',
  punetApi: '^2.0.0',
  blocks: { gaussian },
  klEstimators: { mc },
});
