/**
 * Identity without a copy on the wasm backend. The stock kernel copies the whole tensor; a
 * training step of the LIDC model runs it hundreds of times (gradient bookkeeping), 5% of the step.
 * Tensors are immutable, so the output can share the input's memory, counted by reference, as the
 * wasm Reshape kernel and the cpu backend's Identity already do. Strings keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './backend-ops.js';

export function makeIdentityConfig(stock: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown }) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
