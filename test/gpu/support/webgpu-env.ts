// Shared set-up of the GPU-path tests: a persistent Mesa shader cache inside the project, and
// "WebGPU or a loud failure": with PUNET_REQUIRE_GPU=1 (CI, after .ci/install-vulkan.sh) a missing
// adapter fails the run; locally without it the GPU tests are skipped with the reason printed.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { tryWebGPU, type AdapterReport } from '../../../runtime/backends/webgpu.js';
import { formatAdapter } from '../../../runtime/backends/webgpu-adapter.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Mesa's on-disk shader cache turns lavapipe's ~9 s first training step into ~1 s. Must be set
 *  before the Vulkan driver loads, i.e. before the first tryWebGPU(). */
export function useProjectShaderCache(): void {
  if (process.env['MESA_SHADER_CACHE_DIR'] === undefined) {
    const dir = join(repoRoot, '.cache', 'mesa');
    mkdirSync(dir, { recursive: true });
    process.env['MESA_SHADER_CACHE_DIR'] = dir;
  }
}

export const gpuRequired = process.env['PUNET_REQUIRE_GPU'] === '1';

export type GpuAvailability = { available: true; adapter: AdapterReport } | { available: false; reason: string };

/** Registers webgpu (software adapters allowed, every op in shaders) and returns to the cpu
 *  backend, so each test selects the backend it wants explicitly. */
export async function acquireWebGPU(): Promise<GpuAvailability> {
  useProjectShaderCache();
  const result = await tryWebGPU({ allowSoftware: true, cpuForward: false, probeOnly: true });
  await tf.setBackend('cpu');
  if (result.ok) {
    console.log(`[gpu tests] WebGPU adapter: ${formatAdapter(result.adapter)}`);
    return { available: true, adapter: result.adapter };
  }
  const reason = `WebGPU unavailable: ${result.reason}`;
  if (!gpuRequired) console.warn(`[gpu tests] skipped: ${reason} (set PUNET_REQUIRE_GPU=1 to fail instead)`);
  return { available: false, reason };
}

export async function onBackend<T>(name: 'cpu' | 'webgpu', fn: () => Promise<T>): Promise<T> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  if (name === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
  return fn();
}

/** Largest |a-b| relative to the reference's scale (max |b|, at least 1). */
export function relativeMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
