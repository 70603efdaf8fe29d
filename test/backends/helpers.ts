/** Shared test helpers: switching the (process-global) tfjs backend and deterministic data. */
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../runtime/backends/wasm.js';
import { silenceNodeBanner } from '../../runtime/backends/select.js';
import { registerCpuKernelFixes } from '../../runtime/backends/cpu-fixes.js';

/** Runs `fn` with `name` as the active backend, then restores the previous one. */
export async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T | Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  silenceNodeBanner();
  registerCpuKernelFixes();
  if (name === 'wasm') await activateWasm();
  else await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    if (previous && previous !== tf.getBackend()) await tf.setBackend(previous);
  }
}

/** Deterministic values in [-1, 1) from a small LCG (independent of tfjs's own RNG). */
export function seededValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Relative error scaled by the reference's magnitude (robust for sums of many products). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return maxAbsDiff(actual, expected) / Math.max(1e-6, maxAbs(expected));
}
