/**
 * Registers the kernels that let the networks of this project TRAIN on the wasm backend:
 * Conv2DBackpropFilter (missing from tfjs-backend-wasm 4.22), a faster stride-1
 * Conv2DBackpropInput and an Identity that does not copy. Both run on the wasm backend itself; nothing is copied to another backend.
 * Idempotent. Call after '@tensorflow/tfjs-backend-wasm' has been imported.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { makeConv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { makeIdentityConfig } from './identity.js';
import { registerAvgPoolGradFix } from '../avg-pool-grad.js';

const MARK = Symbol.for('punet.wasmTrainingKernel');
type Marked = tf.KernelConfig & { [MARK]?: true };

function isOurs(kernel: tf.KernelConfig | undefined): boolean {
  return kernel !== undefined && (kernel as Marked)[MARK] === true;
}

function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm') !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({ ...config, [MARK]: true } as Marked);
}

export function registerWasmTrainingKernels(): void {
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (stockInput === undefined) {
    throw new Error('the wasm backend is not loaded: import @tensorflow/tfjs-backend-wasm first');
  }
  if (!isOurs(tf.getKernel('Conv2DBackpropFilter', 'wasm'))) replaceKernel(conv2dBackpropFilterConfig);
  // Keep the stock kernel (and its setupFunc, which binds the C++ function) for the cases we leave to it.
  if (!isOurs(stockInput)) replaceKernel(makeConv2dBackpropInputConfig(stockInput));
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  if (stockIdentity !== undefined && !isOurs(stockIdentity)) replaceKernel(makeIdentityConfig(stockIdentity));
  // The stock AvgPoolGrad is wrong where windows overlap 'same' padding (odd sizes).
  registerAvgPoolGradFix('wasm');
}

/** Kernel names this module provides or replaces on wasm (for reports and tests). */
export const WASM_TRAINING_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Identity'] as const;
