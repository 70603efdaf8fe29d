/**
 * Kernels that exist only where punet's native addon runs (no tfjs equivalent), by name, in a
 * module without imports so code that only asks whether one is registered stays cheap to load.
 */

/**
 * Inputs { dy, y } (NHWC, y = relu(conv + bias)); outputs [dz, db]: dz = dy where y > 0, else 0,
 * and db = dz summed over every axis but the channels. The backward pass of conv + bias + ReLU
 * after the convolution, in one pass instead of Step, Multiply and Sum.
 */
export const RELU_GRAD_BIAS = 'PunetReluGradBias';

/**
 * Inputs { gradient, m, v, value } (flat float32 vectors of one length) and { oneMinusAccBeta1,
 * oneMinusAccBeta2 } (float32 scalars, 1 - beta^t); attrs { beta1, beta2, epsilon, learningRate };
 * outputs [m, v, value] after one Adam step. The arithmetic of plugins/builtin/flat-adam.ts's
 * composed ops, bit for bit, in one threaded pass instead of a dozen single-threaded kernels.
 */
export const ADAM_UPDATE = 'PunetAdamUpdate';

/**
 * Inputs { x: [B, H, W, C], bias: [B, N, C] }; output [B, N, H, W, C] = relu(x[b] + bias[b, n]):
 * N per-sample biases over shared features (fcomb's first layer for N latent samples), in one
 * threaded pass instead of a broadcast Add and a Relu over the N-fold tensor.
 */
export const TILED_BIAS_RELU = 'PunetTiledBiasRelu';

/**
 * Inputs { dy, y } ([B, N, H, W, C], y = TILED_BIAS_RELU's output); outputs [dx: [B, H, W, C],
 * dbias: [B, N, C]]: with dz = dy where y > 0, else 0, dz summed over the samples and over the
 * pixels. TILED_BIAS_RELU's gradient in one threaded pass instead of Step, Multiply and two Sums.
 */
export const TILED_BIAS_RELU_GRAD = 'PunetTiledBiasReluGrad';
