/**
 * Backend selection: `auto` tries the fastest backends first and reports in one line which one
 * runs and why the faster ones were skipped; a forced backend that cannot load is a UserError
 * naming the cause and the fix.
 *
 * auto order: @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node, webgpu on a hardware adapter,
 * wasm (with this project's training kernels), cpu.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../cli/errors.js';
import { registerCpuKernelFixes } from './cpu-fixes.js';
import { activateWasm } from './wasm.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;
export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
}

export interface SelectBackendOptions {
  /** Accept a software WebGPU adapter. Default: true when webgpu is forced, false under auto. */
  allowSoftware?: boolean;
  /** How the user asked, for error messages, e.g. '--backend' or 'training.backend in model.punet'. */
  source?: string;
  /** Module loader (tests replace it to simulate packages that are missing or broken). */
  importModule?: (specifier: string) => Promise<unknown>;
}

export interface BackendSelection {
  name: BackendName;
  /** Why this backend: 'requested', or the auto order's verdict. */
  reason: string;
  /** One line for the user, e.g. "backend: wasm (tensorflow skipped: ...; webgpu skipped: ...)". */
  report: string;
  /** The npm package that provides the tensorflow backend, when that one runs. */
  package?: string;
  adapter?: AdapterInfo;
}

type Attempt = { ok: true; detail?: string; package?: string; adapter?: AdapterInfo } | { ok: false; reason: string };

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const FIXES: Record<BackendName, string> = {
  tensorflow:
    'install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (needs libtensorflow 2.9.1 for CUDA 11.2 / cuDNN 8.1), ' +
    'or use --backend auto',
  webgpu:
    "install the optional 'webgpu' package and a Vulkan/Metal/D3D12 driver (without a GPU: Mesa >= 24 lavapipe, " +
    'see .ci/install-vulkan.sh), or use --backend auto',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm 4.22 (npm ci), or use --backend cpu',
  cpu: 'reinstall @tensorflow/tfjs 4.22 (npm ci)',
};

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'object' && err !== null && 'message' in err
    ? String((err as { message: unknown }).message)
    : String(err);
  return text.split('\n').find((line) => line.trim().length > 0)?.trim() ?? 'unknown error';
}

/** "PKG not installed" when the package itself cannot be found, else "PKG failed to load: cause". */
export function describeImportFailure(pkg: string, err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = firstLine(err);
  const missing =
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /cannot find (package|module)|failed to load url/i.test(message)) &&
    message.includes(pkg);
  return missing ? `${pkg} not installed` : `${pkg} failed to load: ${message}`;
}

const defaultImport = (specifier: string): Promise<unknown> => import(specifier);

async function tryTensorflow(load: (s: string) => Promise<unknown>): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      await load(pkg);
    } catch (err) {
      reasons.push(describeImportFailure(pkg, err));
      continue;
    }
    try {
      if (await tf.setBackend('tensorflow')) return { ok: true, package: pkg, detail: `via ${pkg}` };
      reasons.push(`${pkg} failed to load: tf.setBackend('tensorflow') returned false`);
    } catch (err) {
      reasons.push(`${pkg} failed to load: ${firstLine(err)}`);
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}

interface WebGPUModule {
  tryWebGPU(opts: { allowSoftware: boolean }): Promise<{ ok: true; adapter: AdapterInfo } | { ok: false; reason: string }>;
}

async function tryWebGPUBackend(allowSoftware: boolean): Promise<Attempt> {
  let mod: WebGPUModule;
  try {
    // A variable specifier: the webgpu module is written separately and may be absent.
    const specifier = './webgpu.js';
    mod = (await import(specifier)) as WebGPUModule;
    if (typeof mod.tryWebGPU !== 'function') return { ok: false, reason: 'not available' };
  } catch {
    return { ok: false, reason: 'not available' };
  }
  try {
    const result = await mod.tryWebGPU({ allowSoftware });
    if (!result.ok) return { ok: false, reason: firstLine(result.reason) };
    const { vendor, architecture, description } = result.adapter;
    const adapter = { vendor, architecture, description };
    const named = [vendor, architecture, description].filter((s) => s).join(' ');
    return { ok: true, adapter, detail: `adapter: ${named || 'unnamed'}` };
  } catch (err) {
    return { ok: false, reason: `failed: ${firstLine(err)}` };
  }
}

async function tryWasm(): Promise<Attempt> {
  try {
    const { threads, native } = await activateWasm();
    return { ok: true, detail: `${threads} thread${threads === 1 ? '' : 's'}, set PUNET_WASM_THREADS to change; ${native}` };
  } catch (err) {
    return { ok: false, reason: describeImportFailure('@tensorflow/tfjs-backend-wasm', err) };
  }
}

async function tryCpu(): Promise<Attempt> {
  return (await tf.setBackend('cpu')) ? { ok: true } : { ok: false, reason: "tf.setBackend('cpu') returned false" };
}

function attempt(name: BackendName, opts: SelectBackendOptions, forced: boolean): Promise<Attempt> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow(opts.importModule ?? defaultImport);
    case 'webgpu':
      return tryWebGPUBackend(opts.allowSoftware ?? forced);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js..." the first
 * time it stores data. That is advice we have already acted on (the report says which backend
 * runs), so mark the cpu backend as used; no other warning is affected.
 */
export function silenceNodeBanner(): void {
  try {
    const cpu = tf.findBackend('cpu') as (tf.KernelBackend & { firstUse?: boolean }) | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    // No cpu backend: nothing to silence.
  }
}

function selection(name: BackendName, reason: string, result: Attempt & { ok: true }, skipped: string[]): BackendSelection {
  const notes = [...(result.detail ? [result.detail] : []), ...skipped];
  return {
    name,
    reason,
    report: `backend: ${name}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    ...(result.package ? { package: result.package } : {}),
    ...(result.adapter ? { adapter: result.adapter } : {}),
  };
}

const AUTO_ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export async function selectBackend(requested: BackendRequest, opts: SelectBackendOptions = {}): Promise<BackendSelection> {
  silenceNodeBanner();
  registerCpuKernelFixes(); // cpu stays available as the reference whichever backend runs
  if (requested !== 'auto') {
    if (!AUTO_ORDER.includes(requested)) {
      throw new UserError(
        `unknown backend '${String(requested)}'${opts.source ? ` (${opts.source})` : ''}: choose one of ${BACKEND_REQUESTS.join(', ')}`,
      );
    }
    const result = await attempt(requested, opts, true);
    if (!result.ok) {
      const how = opts.source ?? `--backend ${requested}`;
      throw new UserError(`backend '${requested}' requested by ${how} cannot be used: ${result.reason}.\nFix: ${FIXES[requested]}.`);
    }
    return selection(requested, 'requested', result, []);
  }

  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    const result = await attempt(name, opts, false);
    if (result.ok) {
      const reason = skipped.length === 0 ? 'fastest available' : 'fastest available after skipping faster backends';
      return selection(name, reason, result, skipped);
    }
    skipped.push(`${name} skipped: ${result.reason}`);
  }
  throw new UserError(`no TensorFlow.js backend could be loaded (${skipped.join('; ')}).\nFix: ${FIXES.cpu}.`);
}

/**
 * The cpu backend for commands that only build a model (check, inspect): nothing heavy runs, so
 * no "install tfjs-node" banner; the kernel fixes are registered like every selection does.
 */
export async function useCpuForBuilding(): Promise<void> {
  registerCpuKernelFixes();
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  silenceNodeBanner();
}
