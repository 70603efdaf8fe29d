/**
 * The ancestral prior over all latent scales that `Prepared.prior` exposes. Each scale's own
 * distribution is the toolkit's diagonal Gaussian (family 'diag-gaussian').
 */
import type { Distribution, Tensor, Tf } from '../../compiler/api.js';

/** A seed per (run seed, scale) that never collides for small indices. */
export function mixSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 31) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

/**
 * The prior over all scales of one batch of images, flattened coarse to fine: z = [z_0 | z_1 | ...]
 * with shape [B, sum_i h_i * w_i * C]. It is only defined ancestrally, so `sample` reruns the
 * decoder; `params` and `mean` describe the mean path (every scale takes its conditional mean).
 */
export function ancestralPrior(opts: {
  tf: Tf;
  eventSize: number;
  meanPath: { mu: Tensor; log_sigma: Tensor };
  sample: (n: number, seed: number) => Tensor;
  /** Sum over scales of log p(z_s | z_<s, x), each scale conditioned on z's own coarser scales. */
  logProb: (z: Tensor) => Tensor;
}): Distribution {
  const { tf } = opts;
  return {
    family: 'hierarchical-diag-gaussian',
    params: opts.meanPath,
    eventShape: [opts.eventSize],
    sample: opts.sample,
    mean: () => tf.clone(opts.meanPath.mu),
    // Not a closed form: the spread of each scale given the coarser scales at their means.
    stddev: () => tf.exp(opts.meanPath.log_sigma),
    logProb: opts.logProb,
  };
}
