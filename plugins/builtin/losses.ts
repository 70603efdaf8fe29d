/**
 * Built-in loss terms (Kohl et al. 2018 conventions): softmax cross-entropy summed per image,
 * analytic KL between diagonal Gaussians, rec + beta * KL, L2 weight decay. No TensorFlow.js
 * import: `tf` arrives in ctx.
 */
import { definePlugin } from '../../compiler/api.js';
import type { Scalar, Tensor, Tf } from '../../compiler/api.js';
import { DIAG_GAUSSIAN } from '../../compiler/distributions.js';

const noOptions = { type: 'object', additionalProperties: false, properties: {} } as const;

interface CrossEntropyOptions {
  reduction: 'sum-per-image' | 'mean';
}

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

/** KL(q || p) of diagonal Gaussians from (mu, log sigma): [B, ...] -> [B], summed over latent dims. */
export function diagGaussianKL(tf: Tf, q: { mu: Tensor; log_sigma: Tensor }, p: { mu: Tensor; log_sigma: Tensor }): Tensor {
  return tf.tidy(() => {
    const varQ = tf.exp(tf.mul(q.log_sigma, 2));
    const varP = tf.exp(tf.mul(p.log_sigma, 2));
    const sq = tf.square(tf.sub(q.mu, p.mu));
    const perDim = tf.sub(tf.add(tf.sub(p.log_sigma, q.log_sigma), tf.div(tf.add(varQ, sq), tf.mul(varP, 2))), 0.5);
    return tf.sum(tf.reshape(perDim, [perDim.shape[0]!, -1]), 1);
  });
}

export default definePlugin({
  name: 'punet-losses',
  version: '0.1.0',
  punetApi: '^1.0.0',
  losses: {
    'cross-entropy': {
      description: 'Softmax cross-entropy; sum-per-image (summed over pixels, mean over batch) or mean.',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: {
          reduction: {
            enum: ['sum-per-image', 'mean'],
            default: 'sum-per-image',
            description: 'sum-per-image: sum over pixels, mean over batch (Kohl et al.); mean: mean over pixels and batch.',
          },
        },
      },
      compute: ({ tf, options, logits, labels }) => crossEntropy(tf, logits, labels, (options as CrossEntropyOptions).reduction),
    },
  },
  klEstimators: {
    analytic: {
      description: 'Analytic KL(posterior || prior) of diagonal Gaussians, summed over latent dims and scales, mean over batch.',
      options: noOptions,
      compute: ({ tf, latents }) =>
        tf.tidy(() => {
          let total: Tensor = tf.zeros([latents[0]?.prior.params.mu!.shape[0] ?? 1]);
          for (const [scale, { posterior, prior }] of latents.entries()) {
            for (const d of [posterior, prior]) {
              if (d.family !== DIAG_GAUSSIAN) {
                throw new Error(`analytic KL needs ${DIAG_GAUSSIAN} distributions; latent scale ${scale} is '${d.family}'`);
              }
            }
            total = tf.add(total, diagGaussianKL(tf, posterior.params as never, prior.params as never));
          }
          return tf.mean(total) as Scalar;
        }),
    },
  },
  objectives: {
    weighted: {
      description: 'loss = reconstruction + beta * KL.',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: { beta: { type: 'number', minimum: 0, default: 1, description: 'Weight of the KL term.' } },
      },
      initialState: () => ({}),
      combine: ({ tf, options, reconstruction, kl }) => ({
        loss: tf.add(reconstruction, tf.mul(kl, (options as { beta: number }).beta)) as Scalar,
      }),
    },
  },
  regularizers: {
    l2: {
      description: 'scale * sum(w^2) / 2 over the regularised weights (conv kernels, not biases).',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: { scale: { type: 'number', minimum: 0, default: 1e-5, description: 'Weight decay factor.' } },
      },
      compute: ({ tf, options, weights }) =>
        tf.tidy(() => {
          const scale = (options as { scale: number }).scale;
          if (weights.length === 0) return tf.scalar(0);
          const sums = weights.map((w) => tf.sum(tf.square(w)));
          return tf.mul(tf.addN(sums), scale / 2) as Scalar;
        }),
    },
    none: {
      description: 'No weight regularisation.',
      options: noOptions,
      compute: ({ tf }) => tf.scalar(0),
    },
  },
});
