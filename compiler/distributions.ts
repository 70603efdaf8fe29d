/**
 * The axis-aligned (diagonal) Gaussian the flat Probabilistic U-Net uses. Built from an encoder
 * head [B, 2M]: mu = first M values, log sigma = the last M, soft-bounded to b*tanh(x/b) so
 * exp(log sigma) stays within [e^-b, e^b] (a NaN source in the reference code otherwise).
 * tanh rather than a clip: it is the identity near 0 and never zeroes the gradient.
 */
import type { Distribution, Tensor, Tf } from './api.js';

export const DIAG_GAUSSIAN = 'diag-gaussian';

/** b * tanh(x / b): smooth, slope 1 at 0, |result| < b. */
export function boundLogSigma(tf: Tf, raw: Tensor, bound: number): Tensor {
  return tf.mul(tf.tanh(tf.div(raw, bound)), bound);
}

export function diagGaussianFromHead(tf: Tf, head: Tensor, size: number, logSigmaBound: number): Distribution {
  const [mu, raw] = tf.split(head, [size, size], 1);
  return diagGaussian(tf, mu!, boundLogSigma(tf, raw!, logSigmaBound));
}

/**
 * mu, logSigma: [B, ...eventShape]. `tf` is held in the closure, never on the object, so
 * tf.tidy can walk a returned distribution to keep its tensors.
 */
export function diagGaussian(tf: Tf, mu: Tensor, logSigma: Tensor): Distribution {
  const eventShape = mu.shape.slice(1);
  return {
    family: DIAG_GAUSSIAN,
    params: { mu, log_sigma: logSigma },
    eventShape,
    sample(n, seed) {
      return tf.tidy(() => {
        const eps = tf.randomNormal([mu.shape[0]!, n, ...eventShape], 0, 1, 'float32', seed);
        return tf.add(tf.expandDims(mu, 1), tf.mul(tf.expandDims(tf.exp(logSigma), 1), eps));
      });
    },
    mean() {
      return tf.clone(mu);
    },
  };
}
