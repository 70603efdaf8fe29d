/**
 * `ssn-mc`: the Monte-Carlo log-likelihood of Stochastic Segmentation Networks,
 *   -log (1/S) sum_s p(y | eta_s),  p(y | eta) = prod over pixels of softmax(eta)[y],
 * from S logit maps eta_s drawn by the architecture ([B, S, H, W, K]), computed in log space with
 * log-sum-exp over the samples; per image, mean over the batch (punet's sum-per-image convention).
 */
import { Type } from '@sinclair/typebox';
import type { LossContribution, Scalar } from '../../compiler/api.js';

export const mcLoss: LossContribution<Record<string, never>> = {
  description: 'SSN loss: -log mean over S logit samples of p(mask | sample) (log-sum-exp), per image, mean over the batch.',
  options: Type.Object({}, { additionalProperties: false }),
  compute({ tf, logits, labels }) {
    if (logits.rank !== 5) {
      throw new Error(`ssn-mc needs S logit samples per image [B, S, H, W, K] (architecture ssn); got logits of shape [${logits.shape}]`);
    }
    const [b, s, , , k] = logits.shape as number[];
    return tf.tidy(() => {
      const onehot = tf.expandDims(tf.oneHot(tf.cast(labels, 'int32') as never, k!), 1); // [B, 1, H, W, K]
      const perPixel = tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1); // log p(y_i | eta_s)
      const perSample = tf.sum(tf.reshape(perPixel, [b!, s!, -1]), 2); // [B, S]
      const logMean = tf.sub(tf.logSumExp(perSample, 1), Math.log(s!));
      return tf.neg(tf.mean(logMean)) as Scalar;
    });
  },
};
