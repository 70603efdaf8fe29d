/**
 * Kernels that exist only where punet's native addon runs (no tfjs equivalent), by name, in a
 * module without imports so code that only asks whether one is registered stays cheap to load.
 */

/**
 * Inputs { dy, filter, y } (y = relu(conv + bias), shaped like dy), attrs those of
 * Conv2DBackpropInput; output dx: Conv2DBackpropInput of dy where y > 0, else 0. With
 * RELU_CONV_BACKPROP_FILTER, the backward pass of conv + bias + ReLU without writing the masked
 * dy out (the convolutions mask it as they read it).
 */
export const RELU_CONV_BACKPROP_INPUT = 'PunetReluConv2DBackpropInput';

/**
 * Inputs { x, dy, y } (as above), attrs those of Conv2DBackpropFilter; outputs [dw, db]:
 * Conv2DBackpropFilter of the masked dy, and the masked dy summed over every pixel (the bias
 * gradient).
 */
export const RELU_CONV_BACKPROP_FILTER = 'PunetReluConv2DBackpropFilter';

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
