// WebGPU backend for Node: TensorFlow.js's webgpu backend running on Google's Dawn, which the
// optional `webgpu` npm package ships prebuilt. Works on any GPU with a Vulkan, Metal or D3D12
// driver, and on a software Vulkan driver (Mesa lavapipe) when that is explicitly allowed.
//
// Set-up order matters and is handled here, so callers only `await tryWebGPU(...)`:
//  1. the `webgpu` package is imported dynamically (optional dependency);
//  2. `navigator.gpu` and the WebGPU globals (GPUBufferUsage...) are installed, because Node 20
//     has no `navigator` and tfjs-backend-webgpu reads them;
//  3. our own adapter is requested and inspected (software adapters are refused unless allowed);
//  4. only then is '@tensorflow/tfjs-backend-webgpu' imported, and 'webgpu' registered with a
//     factory that uses the adapter we inspected, at a priority below cpu so that registering it
//     never changes which backend tfjs picks by default;
//  5. tf.setBackend('webgpu') is awaited and its boolean checked (it returns false on failure
//     while getBackend() may still name webgpu), then a tiny convolution is checked on the GPU.
import * as tf from '@tensorflow/tfjs';
import { describeAdapter, type AdapterReport, type GpuAdapterLike } from './webgpu-adapter.js';
import { registerWebGPUKernelFixes } from './webgpu-kernels.js';

export type { AdapterReport } from './webgpu-adapter.js';
export { isSoftwareAdapter } from './webgpu-adapter.js';

export interface TryWebGPUOptions {
  /** Accept a software adapter (lavapipe/llvmpipe, SwiftShader). `auto` refuses them: a CPU
   *  backend is faster than a GPU emulated on the CPU for everything but tests. */
  allowSoftware: boolean;
  /** tfjs's WEBGPU_CPU_FORWARD: run small ops whose inputs are still on the CPU with CPU
   *  kernels. Default false, so everything really runs in shaders (what the tests check). */
  cpuForward?: boolean;
  /** Only find out whether webgpu works: on success the previous backend is selected again. */
  probeOnly?: boolean;
  /** Extra Dawn toggles for `create()`, e.g. ['backend=vulkan'] or ['adapter=NAME']. */
  dawnOptions?: string[];
}

export type TryWebGPUResult = { ok: true; adapter: AdapterReport } | { ok: false; reason: string };

/** Minimal shapes of the WebGPU objects used here (the full @webgpu/types are not pulled into
 *  the project's type check because `webgpu` is optional). */
interface GpuDeviceLike {
  destroy(): void;
  lost?: Promise<{ reason: string; message: string }>;
  addEventListener?(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
}
interface GpuAdapterFull extends GpuAdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<GpuDeviceLike>;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterFull | null>;
}
interface WebGPUPackage {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}
type WebGPUBackendCtor = new (device: GpuDeviceLike, adapterInfo: unknown) => tf.KernelBackend;

/** State of the one webgpu backend this process registers. */
interface Registered {
  adapter: AdapterReport;
  device: GpuDeviceLike | null;
}
let registered: Registered | null = null;

/** Priority below cpu (1) and wasm (2): registering webgpu must not change tfjs's default. */
const WEBGPU_PRIORITY = 0;

export async function tryWebGPU(options: TryWebGPUOptions): Promise<TryWebGPUResult> {
  // A backend registered by an earlier call is reused (Dawn's adapter/device are per process).
  if (registered !== null) {
    if (registered.adapter.isSoftware && !options.allowSoftware) {
      return { ok: false, reason: softwareRefusal(registered.adapter) };
    }
    return selectRegistered(registered.adapter, options);
  }

  const pkg = await importWebGPUPackage();
  if (typeof pkg === 'string') return { ok: false, reason: pkg };

  const gpu = installNavigatorGpu(pkg, options.dawnOptions ?? []);
  if (typeof gpu === 'string') return { ok: false, reason: gpu };

  let requested: GpuAdapterFull | null;
  try {
    requested = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, reason: `requesting a WebGPU adapter failed: ${messageOf(err)}` };
  }
  if (requested === null) {
    return {
      ok: false,
      reason:
        'no WebGPU adapter: Dawn found no usable Vulkan/Metal/D3D12 driver (without a GPU on Debian 12, ' +
        'install Mesa >= 24 lavapipe: sudo .ci/install-vulkan.sh)',
    };
  }
  const adapter = requested;
  const report = describeAdapter(adapter);
  if (report.isSoftware && !options.allowSoftware) {
    return { ok: false, reason: softwareRefusal(report) };
  }

  // Make sure some backend is current before 'webgpu' exists, so "the previous backend" is the
  // one tfjs would have picked without us (a factory registered by an earlier static import of
  // the backend module would otherwise win tf.ready() with its priority 3).
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  await tf.ready();

  let Backend: WebGPUBackendCtor;
  try {
    Backend = withClearReadSyncError(await importTfjsWebGPU());
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-webgpu failed to load: ${messageOf(err)}` };
  }
  registerWebGPUKernelFixes();

  const state: Registered = { adapter: report, device: null };
  let factoryError = '';
  // The module's import registered its own factory at priority 3 (when navigator.gpu existed at
  // import time). Replace it: ours uses the adapter inspected above and keeps the device so
  // releaseWebGPU() can destroy it.
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      try {
        const device = await adapter.requestDevice(deviceDescriptorFor(adapter));
        state.device = device;
        watchErrors(device);
        return new Backend(device, adapter.info);
      } catch (err) {
        factoryError = messageOf(err);
        throw err;
      }
    },
    WEBGPU_PRIORITY,
  );
  registered = state;

  const result = await selectRegistered(report, options);
  if (!result.ok) {
    await releaseWebGPU();
    return { ok: false, reason: factoryError ? `${result.reason}: ${factoryError}` : result.reason };
  }
  return result;
}

/** Switches away from webgpu if it is current, unregisters it and destroys its device. The
 *  process also exits cleanly without this; it frees GPU memory in a long-running process. */
export async function releaseWebGPU(): Promise<void> {
  if (registered === null) return;
  const device = registered.device;
  registered = null;
  if (tf.getBackend() === 'webgpu') {
    const fallback = bestOtherBackend();
    if (fallback !== null) await tf.setBackend(fallback);
  }
  if (tf.findBackendFactory('webgpu') !== null) tf.removeBackend('webgpu');
  device?.destroy();
}

const uncapturedErrors: string[] = [];
const MAX_PRINTED_ERRORS = 5;

/** WebGPU validation/out-of-memory errors are not exceptions: a failed dispatch just leaves its
 *  output unwritten (zeros). Record and print them so a wrong result never passes silently. */
function watchErrors(device: GpuDeviceLike): void {
  device.addEventListener?.('uncapturederror', (event) => {
    const message = event.error?.message ?? 'unknown WebGPU error';
    uncapturedErrors.push(message);
    if (uncapturedErrors.length <= MAX_PRINTED_ERRORS) console.error(`webgpu error: ${message}`);
  });
}

/** Every uncaptured WebGPU error since the process started (tests assert there are none). */
export function webgpuErrors(): readonly string[] {
  return [...uncapturedErrors];
}

/** Forgets the recorded errors (after a test provoked one on purpose). */
export function clearWebGPUErrors(): void {
  uncapturedErrors.length = 0;
}

/** The adapter of the registered webgpu backend, or null. For the one-line backend report. */
export function webgpuAdapter(): AdapterReport | null {
  return registered?.adapter ?? null;
}

async function selectRegistered(report: AdapterReport, options: TryWebGPUOptions): Promise<TryWebGPUResult> {
  const previous = tf.getBackend();
  const selected = await tf.setBackend('webgpu');
  if (!selected) {
    if (previous && previous !== 'webgpu') await tf.setBackend(previous);
    return { ok: false, reason: `tf.setBackend('webgpu') failed on ${report.description || report.vendor}` };
  }
  // Flags exist only once the backend module is loaded; set per call so each caller gets its own.
  tf.env().set('WEBGPU_CPU_FORWARD', options.cpuForward ?? false);

  const check = await selfCheck();
  if (check !== null) {
    if (previous && previous !== 'webgpu') await tf.setBackend(previous);
    return { ok: false, reason: `webgpu self-check failed on ${report.description}: ${check}` };
  }
  if (options.probeOnly && previous && previous !== 'webgpu') await tf.setBackend(previous);
  return { ok: true, adapter: report };
}

/** A 3x3 'same' convolution of ones with ones, computed in a shader (CPU forwarding off for the
 *  check): each output counts the in-bounds taps, so a 4x4 image gives 4 at the corners, 6 on
 *  the edges, 9 inside. Catches drivers that give an adapter but miscompute or fail to compile. */
async function selfCheck(): Promise<string | null> {
  const expected = [4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4];
  const cpuForward = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  try {
    const y = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same'));
    const got = Array.from(await y.data());
    y.dispose();
    const wrong = got.findIndex((v, i) => Math.abs(v - expected[i]!) > 1e-5);
    return wrong < 0 ? null : `conv2d gave ${got.join(',')} instead of ${expected.join(',')}`;
  } catch (err) {
    return messageOf(err);
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', cpuForward);
  }
}

async function importWebGPUPackage(): Promise<WebGPUPackage | string> {
  // A variable specifier keeps TypeScript from requiring the optional package at build time.
  const specifier = 'webgpu';
  try {
    const mod = (await import(specifier)) as Partial<WebGPUPackage>;
    if (typeof mod.create !== 'function' || mod.globals === undefined) {
      return 'the installed webgpu package does not export create() and globals (expected webgpu >= 0.2)';
    }
    return mod as WebGPUPackage;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'webgpu package not installed';
    return `webgpu package failed to load: ${messageOf(err)}`;
  }
}

/** Installs the WebGPU globals and navigator.gpu (created once per process). */
function installNavigatorGpu(pkg: WebGPUPackage, dawnOptions: string[]): GpuLike | string {
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(pkg.globals)) {
    if (!(name in g)) g[name] = value;
  }
  let nav = g['navigator'] as Record<string, unknown> | undefined;
  if (nav === undefined) {
    nav = {};
    g['navigator'] = nav;
  }
  if (nav['gpu'] === undefined) {
    try {
      const gpu = pkg.create(dawnOptions);
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true });
    } catch (err) {
      return `Dawn could not start (create(${JSON.stringify(dawnOptions)})): ${messageOf(err)}`;
    }
  }
  return nav['gpu'] as GpuLike;
}

async function importTfjsWebGPU(): Promise<WebGPUBackendCtor> {
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as { WebGPUBackend?: WebGPUBackendCtor };
  if (typeof mod.WebGPUBackend !== 'function') throw new Error('module does not export WebGPUBackend');
  return mod.WebGPUBackend;
}

/** tfjs reads GPU data synchronously (dataSync/arraySync) through a browser OffscreenCanvas,
 *  which Node does not have, and Dawn offers no blocking readback: such reads fail with
 *  "OffscreenCanvas is not defined". Say what to do instead. Values still held on the CPU
 *  (never uploaded) keep reading synchronously. */
function withClearReadSyncError(Backend: WebGPUBackendCtor): WebGPUBackendCtor {
  return class NodeWebGPUBackend extends Backend {
    override readSync(dataId: object): ReturnType<tf.KernelBackend['readSync']> {
      try {
        return super.readSync(dataId);
      } catch (err) {
        if (err instanceof ReferenceError && /OffscreenCanvas/.test(err.message)) {
          throw new Error(
            'dataSync()/arraySync() cannot read GPU results on the webgpu backend in Node (no synchronous ' +
              'GPU readback): use `await tensor.data()` / `await tensor.array()` instead',
          );
        }
        throw err;
      }
    }
  };
}

/** Same requests as tfjs-backend-webgpu's own factory: the adapter's full limits, since tfjs
 *  sizes its workgroups and buffers from them. */
function deviceDescriptorFor(adapter: GpuAdapterFull): object {
  const wanted = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
    // maxStorageBuffersPerShaderStage stays at WebGPU's default (8) as in tfjs's own factory, so
    // Concat's and AddN's input splitting (webgpu-kernels.ts) runs, and is tested, everywhere.
  ];
  const requiredLimits: Record<string, number> = {};
  for (const name of wanted) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((f) => adapter.features.has(f));
  return { requiredFeatures, requiredLimits };
}

function bestOtherBackend(): string | null {
  const names = Object.keys(tf.engine().registryFactory).filter((n) => n !== 'webgpu');
  if (names.length === 0) return null;
  const byPriority = names.sort(
    (a, b) => (tf.engine().registryFactory[b]?.priority ?? 0) - (tf.engine().registryFactory[a]?.priority ?? 0),
  );
  // Prefer an already-initialised backend (no async start-up) over a higher-priority one.
  return byPriority.find((n) => tf.engine().registry[n] !== undefined) ?? byPriority[0]!;
}

function softwareRefusal(report: AdapterReport): string {
  return (
    `only a software WebGPU adapter is available (${report.description || report.vendor}, ` +
    `architecture '${report.architecture}'): slower than the cpu/wasm backends; select it with --backend webgpu`
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
