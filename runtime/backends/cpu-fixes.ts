/**
 * Fixes for the cpu backend, which is this project's reference backend.
 *
 * tfjs-backend-cpu 4.22's ResizeBilinearGrad returns its result with the shape
 * [batch, width, height, depth] instead of the input's [batch, height, width, depth] (the values
 * are laid out for the correct shape), so the gradient of a bilinear resize of any non-square
 * feature map throws "Error in gradient for op ResizeBilinear". The wrapper relabels the shape.
 * Also AvgPoolGrad on padded windows (see avg-pool-grad.ts). Idempotent.
 */
import * as tf from '@tensorflow/tfjs';
import { registerAvgPoolGradFix } from './avg-pool-grad.js';

const FIXED = Symbol.for('punet.cpuKernelFix');

export function registerCpuKernelFixes(): void {
  registerAvgPoolGradFix('cpu');
  const stock = tf.getKernel('ResizeBilinearGrad', 'cpu');
  if (stock === undefined || (stock as { [FIXED]?: true })[FIXED]) return;
  const fixed = {
    ...stock,
    [FIXED]: true,
    kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
      const out = stock.kernelFunc(args) as tf.TensorInfo;
      const images = args.inputs['images'] as tf.TensorInfo;
      return { ...out, shape: images.shape.slice() };
    }) as tf.KernelFunc,
  };
  tf.unregisterKernel('ResizeBilinearGrad', 'cpu');
  tf.registerKernel(fixed);
}
