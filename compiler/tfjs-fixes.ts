/**
 * Workarounds for TensorFlow.js 4.22 bugs that the compiled networks hit.
 *
 * cpu ResizeBilinearGrad: tfjs-backend-cpu computes the gradient in the images' own layout
 * ([B, H, W, C] strides) but labels the result [B, W, H, C]. With H != W (non-square inputs,
 * or odd sizes that pool unevenly) backprop through the decoder's bilinear upsampling fails
 * ("gradient ... has shape 1,6,7,1, which does not match ... 1,7,6,1"). The data is right, so
 * the fix only restores the shape. Other backends are not touched.
 */
import * as tf from '@tensorflow/tfjs';

const FIXED = Symbol.for('punet.resizeBilinearGradShapeFix');

export function applyTfjsFixes(): void {
  const kernel = tf.getKernel('ResizeBilinearGrad', 'cpu');
  if (!kernel || (kernel.kernelFunc as { [FIXED]?: boolean })[FIXED]) return;
  const original = kernel.kernelFunc;
  const kernelFunc = ((args: Parameters<typeof original>[0]) => {
    const out = original(args) as tf.TensorInfo;
    const images = args.inputs.images as tf.TensorInfo;
    return { ...out, shape: images.shape.slice() };
  }) as typeof original & { [FIXED]?: boolean };
  kernelFunc[FIXED] = true;
  tf.unregisterKernel('ResizeBilinearGrad', 'cpu');
  tf.registerKernel({ ...kernel, kernelFunc });
}
