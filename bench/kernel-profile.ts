/**
 * Where a training step of the LIDC model spends its time, per kernel type: every kernel of the
 * active backend is timed, wall clock and process CPU (kernel-probe.ts; wasm kernels run
 * synchronously, so the time inside kernelFunc is the kernel's), and the rest of the step
 * (tape, tidy, JS) is reported as "outside kernels".
 *
 *   node bench-dist/bench/kernel-profile.js [--backend wasm] [--batch 8] [--size 128] [--steps 2] [--top 15]
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../compiler/compile.js';
import { compileTraining, trainStep } from '../compiler/training.js';
import { createRegistry } from '../plugins/index.js';
import { contractSpec, useBackend } from './compiler.js';
import { probeKernels } from './kernel-probe.js';

export interface KernelTime {
  kernel: string;
  calls: number;
  wallMs: number;
  cpuMs: number;
}

export interface KernelProfile {
  backendReport: string;
  steps: number;
  stepWallMs: number;
  stepCpuMs: number;
  kernels: KernelTime[];
  memory: MemoryProbe;
}

/** Where the process's memory is after the measured steps (and its peak so far). */
export interface MemoryProbe {
  peakRssMB: number;
  rssMB: number;
  /** The wasm backend's linear memory (it grows and never shrinks), 0 on other backends. */
  wasmHeapMB: number;
  /** Bytes in live tensors, as tfjs counts them, now and at the peak of the measured steps. */
  tensorMB: number;
  peakTensorMB: number;
}

function probeMemory(): MemoryProbe {
  const backend = tf.backend() as unknown as { wasm?: { wasmMemory?: { buffer: ArrayBufferLike }; HEAPU8?: Uint8Array } };
  const heap = backend.wasm?.wasmMemory?.buffer ?? backend.wasm?.HEAPU8?.buffer;
  const mb = (bytes: number) => bytes / 2 ** 20;
  return {
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    rssMB: mb(process.memoryUsage().rss),
    wasmHeapMB: mb(heap?.byteLength ?? 0),
    tensorMB: mb(tf.memory().numBytes),
    peakTensorMB: mb(peakTensorBytes),
  };
}

function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

let peakTensorBytes = 0;

/** The per-kernel table a probe fills (probeKernels: outermost calls only), and the probe. */
function timeKernels(backend: string): { table: Map<string, KernelTime>; uninstall: () => void } {
  const table = new Map<string, KernelTime>();
  const probe = probeKernels(backend, (call) => {
    const row = table.get(call.kernel) ?? { kernel: call.kernel, calls: 0, wallMs: 0, cpuMs: 0 };
    row.calls++;
    row.wallMs += call.wallMs;
    row.cpuMs += call.cpuMs;
    table.set(call.kernel, row);
    peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
  });
  return { table, uninstall: probe.uninstall };
}

export async function profileTrainingStep(opts: { backend?: string; batch?: number; size?: number; steps?: number }): Promise<KernelProfile> {
  const batch = opts.batch ?? 8;
  const size = opts.size ?? 128;
  const steps = opts.steps ?? 2;
  const backend = await useBackend(opts.backend ?? 'wasm');
  const registry = createRegistry();
  const spec = contractSpec(size);
  const model = compileModel(spec, registry, { seed: 1 });
  const training = compileTraining(spec, registry);
  const handle = training.createOptimizer();
  const images = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
  const masks = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, size, size], 0, 1, 'float32', 2), 0.7), 'int32'));
  // One unmeasured step: kernel set-up, optimizer slots.
  await trainStep(model, training, handle, { images, masks, seed: 5, step: 0, state: {} });
  const { table, uninstall } = timeKernels(backend.name);
  const c = cpuMsNow();
  const t = performance.now();
  for (let s = 1; s <= steps; s++) await trainStep(model, training, handle, { images, masks, seed: 5 + s, step: s, state: {} });
  const stepWallMs = (performance.now() - t) / steps;
  const stepCpuMs = (cpuMsNow() - c) / steps;
  uninstall();
  const memory = probeMemory();
  handle.optimizer.dispose();
  tf.dispose([images, masks]);
  model.dispose();
  const kernels = [...table.values()]
    .filter((k) => k.calls > 0)
    .map((k) => ({ ...k, calls: k.calls / steps, wallMs: k.wallMs / steps, cpuMs: k.cpuMs / steps }))
    .sort((a, b) => b.cpuMs - a.cpuMs);
  return { backendReport: backend.report, steps, stepWallMs, stepCpuMs, kernels, memory };
}

export function formatKernelProfile(p: KernelProfile, top = 15): string {
  const pct = (x: number) => `${((100 * x) / p.stepCpuMs).toFixed(1).padStart(5)}%`;
  const line = (name: string, calls: string, wall: number, cpu: number) =>
    `${name.padEnd(26)} ${calls.padStart(6)} ${(wall / 1000).toFixed(3).padStart(8)} s ${(cpu / 1000).toFixed(3).padStart(8)} s ${pct(cpu)}`;
  const inKernels = p.kernels.reduce((a, k) => ({ wall: a.wall + k.wallMs, cpu: a.cpu + k.cpuMs }), { wall: 0, cpu: 0 });
  const rest = p.kernels.slice(top).reduce((a, k) => ({ wall: a.wall + k.wallMs, cpu: a.cpu + k.cpuMs, calls: a.calls + k.calls }), { wall: 0, cpu: 0, calls: 0 });
  return [
    `${p.backendReport}; per training step (mean of ${p.steps}): wall ${(p.stepWallMs / 1000).toFixed(3)} s, cpu ${(p.stepCpuMs / 1000).toFixed(3)} s`,
    `${'kernel'.padEnd(26)} ${'calls'.padStart(6)} ${'wall'.padStart(10)} ${'cpu'.padStart(10)} ${'of cpu'.padStart(6)}`,
    ...p.kernels.slice(0, top).map((k) => line(k.kernel, String(k.calls), k.wallMs, k.cpuMs)),
    ...(p.kernels.length > top ? [line(`(${p.kernels.length - top} other kernels)`, String(rest.calls), rest.wall, rest.cpu)] : []),
    line('outside kernels', '', p.stepWallMs - inKernels.wall, p.stepCpuMs - inKernels.cpu),
    `memory after the steps: peak RSS ${p.memory.peakRssMB.toFixed(0)} MB, RSS ${p.memory.rssMB.toFixed(0)} MB, wasm heap ${p.memory.wasmHeapMB.toFixed(0)} MB, live tensors ${p.memory.tensorMB.toFixed(0)} MB (peak ${p.memory.peakTensorMB.toFixed(0)} MB)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      batch: { type: 'string', default: '8' },
      size: { type: 'string', default: '128' },
      steps: { type: 'string', default: '2' },
      top: { type: 'string', default: '15' },
    },
  });
  const profile = await profileTrainingStep({
    backend: values.backend,
    batch: Number(values.batch),
    size: Number(values.size),
    steps: Number(values.steps),
  });
  process.stdout.write(formatKernelProfile(profile, Number(values.top)) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`bench/kernel-profile: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  });
}
