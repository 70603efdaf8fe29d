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
 * The distribution itself is punet's shared one (`lowRankGaussian`, exported by the package);
 * tensors come from ctx.tf.
 */
import { floorLogVariance, lowRankGaussian, LOW_RANK_GAUSSIAN } from 'punet';

/**
 * @typedef {{ size: number, rank: number, diagonal_floor: number, head_init_std: number }} LatentOptions
 * @typedef {import('punet').Tensor} Tensor
 * @typedef {import('punet').LowRankGaussian} LowRankGaussian
 */

/**
 * Role `latent` of the `prob-unet` architecture. What that architecture and its `conv-encoder`
 * and `fcomb` blocks read (not declared by the plugin API 1.0; see docs/plugins.md):
 * `headChannels` (values each encoder head outputs), `headBiasStd` (the heads' bias init),
 * `eventShape` (fcomb tiles a vector latent), `distribution(head [B, headChannels])`, and for
 * `punet inspect` `outputShapes` and `layers`.
 * @type {import('punet').BlockContribution<LatentOptions>}
 */
const gaussian = {
  description: 'Gaussian latent of size M with covariance P P^T + D (rank r): mean, log-diagonal and factor from the encoder head.',
  roles: ['latent'],
  // KL estimators that declare the families they handle (the built-in `analytic`) are checked against it.
  family: LOW_RANK_GAUSSIAN,
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      size: { type: 'integer', minimum: 1, default: 6, description: 'Latent dimensions M.' },
      rank: { type: 'integer', minimum: 1, default: 2, description: 'Rank r of the covariance factor.' },
      diagonal_floor: { type: 'number', exclusiveMinimum: 0, default: 1e-4, description: 'Added to the diagonal variance: D = exp(raw) + floor.' },
      head_init_std: { type: 'number', minimum: 0, default: 0.001, description: "Std of the truncated-normal init of the encoders' head biases." },
    },
  },
  check: (o) => (o.rank > o.size ? [{ option: 'rank', message: `must be <= size (${o.size}), got ${o.rank}` }] : []),
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
        const [mu, raw, factor] = tf.split(head, [m, m, m * r], 1);
        // Every tensor the distribution reads is in its params: the architecture keeps only those.
        return lowRankGaussian(tf, /** @type {Tensor} */ (mu), floorLogVariance(tf, /** @type {Tensor} */ (raw), o.diagonal_floor), tf.reshape(/** @type {Tensor} */ (factor), [batch, m, r]));
      },
    };
  },
};

/**
 * KL(q || p) = E_q[log q(z) - log p(z)], estimated with `samples` reparameterised draws from the
 * posterior (so it has gradients), summed over latent scales, mean over the batch.
 * @type {import('punet').KLContribution<{ samples: number }>}
 */
const mc = {
  description: 'Monte-Carlo KL(posterior || prior) from reparameterised posterior samples; any distribution with logProb (low-rank Gaussian).',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: { samples: { type: 'integer', minimum: 1, maximum: 1000, default: 4, description: 'Posterior samples per image.' } },
  },
  compute({ tf, options, latents, seed }) {
    for (const [scale, pair] of latents.entries()) {
      for (const d of [pair.posterior, pair.prior]) {
        if (typeof (/** @type {any} */ (d).logProb) !== 'function') {
          throw new Error(`the Monte-Carlo KL needs distributions with logProb (e.g. ${LOW_RANK_GAUSSIAN}); latent scale ${scale} is '${d.family}'`);
        }
      }
    }
    return tf.tidy(() => {
      const perScale = latents.map(({ posterior, prior }, scale) => {
        const q = /** @type {LowRankGaussian} */ (posterior);
        const p = /** @type {LowRankGaussian} */ (prior);
        const z = q.sample(options.samples, seed + scale);
        return tf.mean(tf.sub(q.logProb(z), p.logProb(z)), 1); // [B]
      });
      return /** @type {import('punet').Scalar} */ (perScale.length ? tf.mean(tf.addN(perScale)) : tf.scalar(0));
    });
  },
};

/** @type {import('punet').PunetPlugin} */
const plugin = {
  name: 'low-rank-latent',
  version: '1.0.0',
  punetApi: '^2.0.0',
  blocks: { gaussian },
  klEstimators: { mc },
};

export default plugin;
