/**
 * The axis-aligned (diagonal) Gaussian the flat Probabilistic U-Net uses. Built from an encoder
 * head [B, 2M]: mu = first M values, log sigma = the last M, soft-bounded to b*tanh(x/b) so
 * exp(log sigma) stays within [e^-b, e^b] (a NaN source in the reference code otherwise).
 * tanh rather than a clip: it is the identity near 0 and never zeroes the gradient.
 */
import type { Distribution, Tensor, Tf } from '../../compiler/api.js';

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
    stddev() {
      return tf.exp(logSigma);
    },
    logProb(z) {
      return tf.tidy(() => {
        const batch = mu.shape[0]!;
        const n = z.shape[1]!;
        const size = eventShape.reduce((a, b) => a * b, 1);
        const flatMu = tf.reshape(mu, [batch, 1, size]);
        const flatLogSigma = tf.reshape(logSigma, [batch, 1, size]);
        const standardised = tf.div(tf.sub(tf.reshape(z, [batch, n, size]), flatMu), tf.exp(flatLogSigma));
        const perDim = tf.add(tf.add(tf.square(standardised), tf.mul(flatLogSigma, 2)), Math.log(2 * Math.PI));
        return tf.mul(tf.sum(perDim, 2), -0.5);
      });
    },
  };
}

export const LOW_RANK_GAUSSIAN = 'low-rank-gaussian';

/** A low-rank-plus-diagonal Gaussian. */
export type LowRankGaussian = Distribution & {
  /** The rank r of the covariance factor. */
  readonly rank: number;
};

/**
 * N(mu, P P^T + D) over events of any shape (Monteiro et al. 2020 use it over a logit map).
 * mu, logDiag: [B, ...eventShape], the mean and the log of the diagonal variances D;
 * factor: [B, ...eventShape, r], the covariance factor P. A sample is
 * mu + P eps_r + sqrt(D) eps_d with eps_r ~ N(0, I_r) shared by the whole event, so r directions
 * carry the correlations and D the independent per-element noise. Keep D away from 0 (e.g.
 * `floorLogVariance`): logProb divides by it.
 */
export function lowRankGaussian(tf: Tf, mu: Tensor, logDiag: Tensor, factor: Tensor): LowRankGaussian {
  const eventShape = mu.shape.slice(1);
  const batch = mu.shape[0]!;
  const size = eventShape.reduce((a, b) => a * b, 1);
  const rank = factor.shape[factor.shape.length - 1]!;
  if (factor.shape.length !== mu.shape.length + 1 || factor.shape.slice(0, -1).some((d, i) => d !== mu.shape[i])) {
    throw new RangeError(`lowRankGaussian: factor must be [${mu.shape}, r], got [${factor.shape}]`);
  }
  const flatFactor = () => tf.reshape(factor, [batch, size, rank]);
  return {
    family: LOW_RANK_GAUSSIAN,
    params: { mu, log_diag: logDiag, factor },
    eventShape,
    rank,
    sample(n, seed) {
      return tf.tidy(() => {
        // One draw split in two, so the two noise sources never share a seeded stream.
        const eps = tf.randomNormal([batch, n, rank + size], 0, 1, 'float32', seed);
        const [epsRank, epsDiag] = tf.split(eps, [rank, size], 2);
        const correlated = tf.matMul(epsRank!, flatFactor(), false, true); // eps_r P^T: [B, n, E]
        const independent = tf.mul(tf.reshape(tf.exp(tf.mul(logDiag, 0.5)), [batch, 1, size]), epsDiag!);
        const flat = tf.add(tf.add(tf.reshape(mu, [batch, 1, size]), correlated), independent);
        return tf.reshape(flat, [batch, n, ...eventShape]);
      });
    },
    mean() {
      return tf.clone(mu);
    },
    stddev() {
      // Marginal variance of element i: D_i + sum_r P_ir^2.
      return tf.tidy(() => tf.sqrt(tf.add(tf.exp(logDiag), tf.sum(tf.square(factor), -1))));
    },
    /** log N(z; mu, P P^T + D) for z [B, n, ...eventShape]: [B, n]. */
    logProb(z) {
      return tf.tidy(() => {
        // Woodbury and the determinant lemma with the r x r capacitance C = I + P^T D^-1 P:
        // (z-mu)^T S^-1 (z-mu) = d^T D^-1 d - |L^-1 P^T D^-1 d|^2, log|S| = log|C| + sum log D.
        const n = z.shape[1]!;
        const d = tf.sub(tf.reshape(z, [batch, n, size]), tf.reshape(mu, [batch, 1, size]));
        const invDiag = tf.reshape(tf.exp(tf.neg(logDiag)), [batch, 1, size]);
        const p = flatFactor();
        const scaledD = tf.mul(d, invDiag); // D^-1 d, [B, n, E]
        const capacitance = tf.add(tf.eye(rank), tf.matMul(tf.mul(p, tf.reshape(invDiag, [batch, size, 1])), p, true, false));
        const chol = choleskyEntries(tf, capacitance, rank);
        const w = forwardSubstitute(tf, chol, tf.matMul(scaledD, p), rank); // [B, n]
        const quadratic = tf.sub(tf.sum(tf.mul(d, scaledD), 2), w);
        let logDet: Tensor = tf.sum(tf.reshape(logDiag, [batch, size]), 1);
        for (let i = 0; i < rank; i++) logDet = tf.add(logDet, tf.mul(tf.log(chol[i]![i]!), 2));
        const constant = size * Math.log(2 * Math.PI);
        return tf.mul(tf.add(tf.add(quadratic, tf.expandDims(logDet, 1)), constant), -0.5);
      });
    },
  };
}

/**
 * log(exp(raw) + floor) computed stably: a log-variance that never goes below log(floor), with
 * the gradient of `raw` intact above it (Monteiro et al. add a small constant to the diagonal).
 */
export function floorLogVariance(tf: Tf, raw: Tensor, floor: number): Tensor {
  const logFloor = Math.log(floor);
  return tf.add(tf.softplus(tf.sub(raw, logFloor)), logFloor);
}

/**
 * The Cholesky factor of a batch of small SPD matrices [B, r, r] as entries L[i][j] ([B] each,
 * j <= i), unrolled from elementary ops so gradients flow (tfjs has no batched cholesky).
 */
function choleskyEntries(tf: Tf, matrix: Tensor, r: number): Tensor[][] {
  const a = tf.unstack(matrix, 1).map((row) => tf.unstack(row, 1));
  const l: Tensor[][] = [];
  for (let i = 0; i < r; i++) {
    l.push([]);
    for (let j = 0; j <= i; j++) {
      let s: Tensor = a[i]![j]!;
      for (let k = 0; k < j; k++) s = tf.sub(s, tf.mul(l[i]![k]!, l[j]![k]!));
      l[i]!.push(i === j ? tf.sqrt(s) : tf.div(s, l[j]![j]!));
    }
  }
  return l;
}

/** |L^-1 v|^2 per row of v [B, n, r], with L from `choleskyEntries`: [B, n]. */
function forwardSubstitute(tf: Tf, l: Tensor[][], v: Tensor, r: number): Tensor {
  const columns = tf.unstack(v, 2); // r x [B, n]
  const w: Tensor[] = [];
  for (let i = 0; i < r; i++) {
    let s: Tensor = columns[i]!;
    for (let k = 0; k < i; k++) s = tf.sub(s, tf.mul(tf.expandDims(l[i]![k]!, 1), w[k]!));
    w.push(tf.div(s, tf.expandDims(l[i]![i]!, 1)));
  }
  return tf.addN(w.map((x) => tf.square(x)));
}
