/**
 * The optional native addon (native/: oneDNN convolutions, matrix products and sums, built by
 * `npm ci` where Debian's libdnnl-dev and a C++ toolchain exist). Loading it never fails the
 * program: `loadNativeAddon()` says either which addon runs or, in one line, why none does.
 *
 * Environment: PUNET_NATIVE=0 keeps every kernel in wasm; PUNET_THREADS (else PUNET_WASM_THREADS,
 * else every core) sets oneDNN's thread count. 3x3 stride-1 convolutions from 32 channels run as
 * punet's own Winograd convolutions (native/winograd.cc); PUNET_WINOGRAD=onednn|punet|off picks
 * oneDNN's (AVX-512 only), punet's or none (direct kernels), PUNET_WINOGRAD_MIN=N moves the
 * channel threshold.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NATIVE_ENV = 'PUNET_NATIVE';
const NATIVE_THREADS_ENV = 'PUNET_THREADS';
/** Where `npm ci` (native/build.mjs) puts the addon, relative to the package root. */
const ADDON_PATH = join('native', 'build', 'Release', 'punet_dnnl.node');
/** The fix shown when the addon is missing (npm may skip a dependency's install script: name the script). */
function nativeFix(root: string | undefined): string {
  return `apt-get install libdnnl-dev g++ make python3, then node ${root === undefined ? 'native/build.mjs' : join(root, 'native', 'build.mjs')}`;
}

export interface NativeStats {
  convPrimitives: number;
  /** Of those, the ones running Winograd kernels (3x3, stride 1, 32+ channels). */
  winogradPrimitives: number;
  /** Of those, the ones running punet's own Winograd (native/winograd.cc), not oneDNN's. */
  punetWinogradPrimitives: number;
  matmulPrimitives: number;
  sumPrimitives: number;
  /** Bytes the addon holds outside the wasm heap (filters in oneDNN's layout, Winograd work buffers). */
  bufferBytes: number;
  calls: number;
  /** Of those, the 1x1 stride-1 unpadded convolutions run as matrix products (native/pointwise.cc). */
  pointwiseCalls: number;
  threads: number;
  runtime: string;
  version: string;
  /** Whose Winograd kernels run now: punet's (the default), oneDNN's (on request, AVX-512 only), or none. */
  winograd: 'onednn' | 'punet' | 'off';
  /** Channels per vector in punet's Winograd kernels: 16 (their AVX-512 copy) or 8 (the portable one). */
  winogradLanes: 8 | 16;
}

export interface NativeAddon {
  /** Convolution: params laid out as ConvParam in native/dnnl_kernels.cc. */
  conv(heap: Uint8Array, params: Uint32Array): void;
  /** Batched matrix product: params laid out as MatMulParam in native/dnnl_kernels.cc. */
  matmul(heap: Uint8Array, params: Uint32Array): void;
  /** Sum over adjacent axes: params laid out as SumParam in native/dnnl_kernels.cc. */
  sum(heap: Uint8Array, params: Uint32Array): void;
  /** Average pool: params laid out as PoolParam in native/dnnl_kernels.cc. */
  avgPool(heap: Uint8Array, params: Uint32Array): void;
  /** Average-pool gradient: params laid out as PoolParam in native/dnnl_kernels.cc. */
  avgPoolGrad(heap: Uint8Array, params: Uint32Array): void;
  /** Split along one axis: params laid out as SplitParam in native/dnnl_kernels.cc. */
  split(heap: Uint8Array, params: Uint32Array): void;
  /** Concat along one axis (split's reverse): params laid out as SplitParam in native/dnnl_kernels.cc. */
  concat(heap: Uint8Array, params: Uint32Array): void;
  /** Bilinear resize: params laid out as ResizeParam in native/dnnl_kernels.cc. */
  resizeBilinear(heap: Uint8Array, params: Uint32Array): void;
  /** Bilinear resize gradient: params laid out as ResizeParam in native/dnnl_kernels.cc. */
  resizeBilinearGrad(heap: Uint8Array, params: Uint32Array): void;
  /** Add, Sub or Multiply of same-shape tensors: params laid out as BinaryParam in native/dnnl_kernels.cc. */
  binary(heap: Uint8Array, params: Uint32Array): void;
  /** relu(x + per-sample bias) (TILED_BIAS_RELU): params laid out as TiledParam in native/dnnl_kernels.cc. */
  tiledBiasRelu(heap: Uint8Array, params: Uint32Array): void;
  /** Its gradient (TILED_BIAS_RELU_GRAD): params laid out as TiledGradParam in native/dnnl_kernels.cc. */
  tiledBiasReluGrad(heap: Uint8Array, params: Uint32Array): void;
  /** One Adam step on flat vectors (ADAM_UPDATE): params laid out as AdamParam in native/dnnl_kernels.cc. */
  adam(heap: Uint8Array, params: Uint32Array): void;
  setThreads(threads: number): void;
  /** Which Winograd kernels eligible convolutions use from the next call on (PUNET_WINOGRAD sets the first). */
  setWinograd(mode: 'auto' | 'onednn' | 'punet' | 'off'): void;
  /** punet's Winograd kernels in their portable copy (8) or AVX-512 one (16, where the CPU has it; PUNET_WINOGRAD_LANES sets the first). */
  setWinogradLanes(lanes: 8 | 16): void;
  stats(): NativeStats;
}

export type NativeLoad = { ok: true; addon: NativeAddon; path: string; threads: number } | { ok: false; reason: string };

/** The package root: the nearest folder above this module holding punet's package.json. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Threads for oneDNN: PUNET_THREADS, else PUNET_WASM_THREADS, else every core. */
function nativeThreads(env: NodeJS.ProcessEnv = process.env): number {
  for (const name of [NATIVE_THREADS_ENV, 'PUNET_WASM_THREADS']) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      const n = Number(value);
      if (Number.isInteger(n) && n >= 1) return n;
    }
  }
  return Math.max(1, os.availableParallelism());
}

let cached: NativeLoad | undefined;

export function loadNativeAddon(env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (cached) return cached;
  cached = load(env);
  return cached;
}

function load(env: NodeJS.ProcessEnv): NativeLoad {
  if (env[NATIVE_ENV] === '0') return { ok: false, reason: `disabled by ${NATIVE_ENV}=0` };
  const root = packageRoot();
  const path = root === undefined ? undefined : join(root, ADDON_PATH);
  if (path === undefined || !existsSync(path)) return { ok: false, reason: `native addon not built (${nativeFix(root)})` };
  // OpenMP threads that spin after each kernel would burn the CPU the wasm threads need: let
  // them sleep (read by libgomp when the addon loads it, so set before loading).
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const threads = nativeThreads(env);
    addon.setThreads(threads);
    return { ok: true, addon, path, threads };
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    return { ok: false, reason: `native addon failed to load: ${first} (${nativeFix(root)})` };
  }
}
