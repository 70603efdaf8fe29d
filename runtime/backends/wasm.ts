/**
 * Loads the wasm backend from the installed package (no network): the .wasm binaries are located
 * next to the package's own JS through Node's resolver, then the training kernels are registered.
 */
import * as tf from '@tensorflow/tfjs';
import { installFrugalGradients } from './frugal-gradients.js';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { loadNativeAddon } from './native.js';
import { NATIVE_KERNELS, registerNativeKernels } from './native-kernels.js';
import { configureWasmThreads, wasmThreadCount, withCoreCountForInit } from './wasm-threads.js';

let pathsSet = false;
let wasmThreads = 1;

/** Folder holding tfjs-backend-wasm's .wasm files, with a trailing separator. */
export function wasmBinaryFolder(): string {
  // The offline bundle (scripts/bundle.mjs) keeps them beside its own code.
  const beside = fileURLToPath(new URL('./', import.meta.url));
  if (existsSync(path.join(beside, 'tfjs-backend-wasm-simd.wasm'))) return beside;
  const require = createRequire(import.meta.url);
  const simdBinary = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  return path.dirname(simdBinary) + path.sep;
}

/**
 * Makes 'wasm' the active backend. Throws (plain Error, first line = the cause) if the package is
 * missing or the module cannot be instantiated; the caller turns that into a user-facing message.
 */
export async function activateWasm(): Promise<{ threads: number; native: string }> {
  // Imported lazily: importing registers 'wasm' with a higher priority than 'cpu', which would
  // change the default backend of every program that merely imports this module.
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!pathsSet) {
    wasm.setWasmPaths(wasmBinaryFolder());
    // wasm-threads: use every core (threaded SIMD build), or one where the native kernels run;
    // PUNET_WASM_THREADS decides when set.
    wasmThreads = configureWasmThreads(wasm, tf.env(), wasmThreadCount(process.env, loadNativeAddon().ok));
    pathsSet = true;
  }
  registerWasmTrainingKernels();
  // The wasm heap never shrinks: its size is a training step's peak, which tfjs's own backward
  // pass doubles (PUNET_TFJS_GRADIENTS=1 keeps it, for comparison).
  if (process.env.PUNET_TFJS_GRADIENTS !== '1') installFrugalGradients();
  const native = activateNativeKernels();
  const ok = await withCoreCountForInit(wasmThreads, () => tf.setBackend('wasm')); // wasm-threads
  if (!ok || tf.getBackend() !== 'wasm') throw new Error('tf.setBackend("wasm") failed to initialise the wasm module');
  return { threads: wasm.getThreadsCount(), native };
}

/** Registers the native kernels when the addon loads; returns one line saying which run natively, or why none. */
function activateNativeKernels(): string {
  const load = loadNativeAddon();
  if (!load.ok) return `native kernels off: ${load.reason}`;
  registerNativeKernels(load.addon);
  const { version, winograd, winogradLanes } = load.addon.stats();
  const winogradNote = winograd === 'off' ? 'no Winograd' : winograd === 'punet' ? `punet's Winograd 3x3, ${winogradLanes === 16 ? 'AVX-512' : '8-lane'}` : "oneDNN's Winograd 3x3";
  return `native oneDNN ${version} ${NATIVE_KERNELS.join('/')} (${winogradNote}) on ${load.threads} thread${load.threads === 1 ? '' : 's'}`;
}
