// Fixes to tfjs-backend-webgpu 4.22 kernels, registered on the 'webgpu' backend name.
//
// AddN binds every input as a storage buffer of one shader, but WebGPU allows only
// `maxStorageBuffersPerShaderStage` (8 by default) per stage. With more inputs the pipeline fails
// validation and the result silently stays zero: e.g. an L2 penalty summed over 40 conv kernels
// with tf.addN gave 0 on webgpu. (tfjs's Concat already splits its inputs this way; AddN does
// not.) The fix sums the inputs in chunks that fit, then sums the partial sums.
import * as tf from '@tensorflow/tfjs';

interface WebGPUBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

const PATCHED = Symbol.for('punet.webgpu.addNChunked');

export function registerWebGPUKernelFixes(): void {
  const original = tf.getKernel('AddN', 'webgpu');
  if (original === undefined || (original as unknown as Record<symbol, boolean>)[PATCHED]) return;
  const originalFunc = original.kernelFunc;
  const chunked: tf.KernelConfig = {
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebGPUBackendLike;
      // One storage binding is the output.
      const perShader = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
      let tensors = args.inputs as unknown as tf.TensorInfo[];
      const partials: tf.TensorInfo[] = [];
      while (tensors.length > perShader) {
        const next: tf.TensorInfo[] = [];
        for (let i = 0; i < tensors.length; i += perShader) {
          const chunk = tensors.slice(i, i + perShader);
          if (chunk.length === 1) {
            next.push(chunk[0]!);
            continue;
          }
          const sum = originalFunc({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
          partials.push(sum);
          next.push(sum);
        }
        tensors = next;
      }
      const result = originalFunc({ ...args, inputs: tensors as unknown as tf.NamedTensorInfoMap });
      // Freed after the final sum is queued: the backend keeps buffers of pending commands alive.
      for (const p of partials) backend.disposeData(p.dataId);
      return result;
    },
  };
  (chunked as unknown as Record<symbol, boolean>)[PATCHED] = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel(chunked);
}
