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
