// @ts-check
/**
 * A third-party punet plugin: focal loss (Lin et al. 2017) with optional class weights, a
 * reconstruction loss for rare foreground classes:
 *
 *     use "./plugins/focal-loss/index.js"
 *     loss { reconstruction focal-loss/focal { gamma: 2, class_weights: [1, 4] } }
 *
 * Per pixel: FL = -w_y (1 - p_y)^gamma log p_y, with p_y the softmax probability of the true
 * class y. gamma = 0 and no weights is plain cross-entropy (class-weighted CE with weights only).
 * Reduction as the built-in cross-entropy: summed over the pixels of an image, mean over the
 * batch (or `mean` over all pixels).
 *
 * TensorFlow.js arrives as ctx.tf (never import it yourself: punet may run on another backend
 * or even another copy of tfjs).
 */

/**
 * @typedef {{ gamma: number, class_weights?: number[], reduction: 'sum-per-image' | 'mean' }} FocalOptions
 * @typedef {import('punet').Tensor} Tensor
 */

/** @type {import('punet').LossContribution<FocalOptions>} */
const focal = {
  description: 'focal loss -w_y (1 - p_y)^gamma log p_y, summed per image, mean over the batch',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      gamma: { type: 'number', minimum: 0, default: 2, description: 'Focusing exponent (0 = cross-entropy).' },
      class_weights: {
        type: 'array',
        items: { type: 'number', minimum: 0 },
        minItems: 2,
        description: 'One weight per class, background first (default: all 1).',
      },
      reduction: { enum: ['sum-per-image', 'mean'], default: 'sum-per-image' },
    },
  },
  // Rules JSON Schema cannot express on its own; `punet check` and the compiler run them.
  check(options, { input }) {
    const w = options.class_weights;
    if (!w) return [];
    if (w.length !== input.classes) return [{ option: 'class_weights', message: `needs one weight per class (${input.classes}, background first), got ${w.length}` }];
    if (w.every((x) => x === 0)) return [{ option: 'class_weights', message: 'at least one weight must be positive' }];
    return [];
  },
  compute({ tf, options, logits, labels }) {
    const classes = /** @type {number} */ (logits.shape[logits.shape.length - 1]);
    const weights = options.class_weights;
    return tf.tidy(() => {
      const onehot = tf.oneHot(/** @type {any} */ (tf.cast(labels, 'int32')), classes);
      const logpTrue = tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1); // [B, H, W]
      const modulation = tf.pow(tf.sub(1, tf.exp(logpTrue)), options.gamma);
      /** @type {Tensor} */
      let perPixel = tf.neg(tf.mul(modulation, logpTrue));
      if (weights) perPixel = tf.mul(perPixel, tf.sum(tf.mul(onehot, tf.tensor1d(weights)), -1));
      if (options.reduction === 'mean') return /** @type {any} */ (tf.mean(perPixel));
      const batch = /** @type {number} */ (perPixel.shape[0]);
      return /** @type {any} */ (tf.mean(tf.sum(tf.reshape(perPixel, [batch, -1]), 1)));
    });
  },
};

/** @type {import('punet').PunetPlugin} */
const plugin = {
  name: 'focal-loss',
  version: '1.0.0',
  punetApi: '^2.0.0',
  losses: { focal },
};

export default plugin;
