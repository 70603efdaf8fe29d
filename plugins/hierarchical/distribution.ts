/**
 * Distributions of the hierarchical latents: one axis-aligned Gaussian per scale (family
 * 'diag-gaussian', the family the built-in `analytic` KL estimator understands), and the
 * ancestral prior over all scales that `Prepared.prior` exposes.
 */
import type { Distribution, Tensor, Tf } from '../../compiler/api.js';

/** A seed per (run seed, scale) that never collides for small indices. */
export function mixSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

/** Diagonal Gaussian over [B, ...eventShape]; `log_sigma` is already bounded. */
export function diagGaussian(tf: Tf, mu: Tensor, logSigma: Tensor): Distribution {
  const eventShape = mu.shape.slice(1) as number[];
  return {
    family: 'diag-gaussian',
    params: { mu, log_sigma: logSigma },
    eventShape,
    sample(n, seed) {
      const batch = mu.shape[0]!;
      const eps = tf.randomNormal([batch, n, ...eventShape], 0, 1, 'float32', seed);
      return tf.add(tf.expandDims(mu, 1), tf.mul(tf.expandDims(tf.exp(logSigma), 1), eps));
    },
    mean: () => mu,
  };
}

/** Softly bounds log sigma to (-bound, bound) with tanh, keeping gradients everywhere. */
export function boundLogSigma(tf: Tf, raw: Tensor, bound: number): Tensor {
  return tf.mul(tf.tanh(tf.div(raw, bound)), bound);
}

/**
 * The prior over all scales of one batch of images, flattened coarse to fine: z = [z_0 | z_1 | ...]
 * with shape [B, sum_i h_i * w_i * C]. It is only defined ancestrally, so `sample` reruns the
 * decoder; `params` and `mean` describe the mean path (every scale takes its conditional mean).
 */
export function ancestralPrior(opts: {
  eventSize: number;
  meanPath: { mu: Tensor; log_sigma: Tensor };
  sample: (n: number, seed: number) => Tensor;
}): Distribution {
  return {
    family: 'hierarchical-diag-gaussian',
    params: opts.meanPath,
    eventShape: [opts.eventSize],
    sample: opts.sample,
    mean: () => opts.meanPath.mu,
  };
}
