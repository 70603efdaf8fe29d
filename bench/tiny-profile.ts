/**
 * Where a small model's training step goes: kernels dispatched per step (by phase: batch upload,
 * forward+backward, optimizer update), time per kernel type, and the time outside kernels (tfjs's
 * engine, the gradient tape, tidy, allocation: the per-op overhead that dominates at 32x32).
 * Runs the trainer's own step (runtime/train/step.ts) on the spec's own data and batches: warm-up
 * steps, then `steps` timed steps, then `steps` more with a kernel probe for the breakdown.
 *
 *   PUNET_WASM_THREADS=1 node bench-dist/bench/tiny-profile.js [--spec examples/prob-unet-tiny.punet]
 *       [--backend wasm] [--steps 40] [--warmup 5] [--top 20] [--json]
 *
 * Kernel times are process CPU time (all threads) measured around each kernel function registered
 * for the active backend (a wrapper installed in tfjs's kernel registry), so a loaded machine does
 * not inflate them. "outside kernels" = the step's process CPU time - the kernels' CPU time.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadData, loadSpecOrFail, compileOrFail } from '../runtime/run/session.js';
import { selectBackend, type BackendRequest } from '../runtime/backends/select.js';
import { compileTraining } from '../compiler/training.js';
import { BatchSampler } from '../runtime/train/batches.js';
import { STREAM, tfSeed } from '../runtime/train/rng.js';
import { trainHostBatch } from '../runtime/train/step.js';
import { probeKernels } from './kernel-probe.js';

type Phase = 'forward+backward' | 'optimizer';

interface KernelStat {
  calls: Record<Phase, number>;
  ms: number;
}

export interface TinyProfile {
  backend: string;
  steps: number;
  /** Process CPU (all threads) and wall time per step, without the probe. */
  cpuSecondsPerStep: number;
  wallSecondsPerStep: number;
  kernelsPerStep: Record<Phase, number> & { total: number };
  /** Kernel CPU time per step, measured in the probed steps (as the two lines below). */
  kernelMsPerStep: number;
  /** CPU time of the optimizer update (its kernels and everything around them). */
  optimizerMsPerStep: number;
  /** CPU per step of the probed steps outside kernels: tfjs's engine, tape, tidy, our JS (and the probe). */
  outsideKernelsMsPerStep: number;
  /** CPU outside kernels / kernels dispatched: the average cost of dispatching one op. */
  overheadUsPerKernel: number;
  byKernel: Array<{ name: string; callsPerStep: number; optimizerCallsPerStep: number; msPerStep: number; usPerCall: number }>;
  tensorsLeakedPerStep: number;
  losses: number[];
}

/** Per-kernel counters by phase, filled by a kernel probe (kernel-probe.ts: outermost calls only) while installed. */
function countKernels(backend: string) {
  const stats = new Map<string, KernelStat>();
  const phaseCalls: Record<Phase, number> = { 'forward+backward': 0, optimizer: 0 };
  const state = { phase: 'forward+backward' as Phase, kernelMs: 0 };
  const probe = probeKernels(backend, (call) => {
    const s = stats.get(call.kernel) ?? { calls: { 'forward+backward': 0, optimizer: 0 }, ms: 0 };
    s.calls[state.phase]++;
    s.ms += call.cpuMs;
    stats.set(call.kernel, s);
    state.kernelMs += call.cpuMs;
    phaseCalls[state.phase]++;
  });
  return { stats, phaseCalls, state, uninstall: probe.uninstall };
}

export async function profileTinyStep(opts: { spec: string; backend: string; steps: number; warmup: number }): Promise<TinyProfile> {
  const selection = await selectBackend(opts.backend as BackendRequest, { source: '--backend' });
  const loaded = await loadSpecOrFail(opts.spec, (s) => process.stderr.write(s));
  const spec = loaded.spec;
  const dataset = await loadData(spec, loaded.registry, dirname(resolve(opts.spec)));
  const model = compileOrFail(spec, loaded.registry);
  const training = compileTraining(spec, loaded.registry);
  const handle = training.createOptimizer();
  const sampler = new BatchSampler(dataset, dataset.splits.train, spec.train.batch_size, spec.train.seed);
  let state = training.initialObjectiveState();
  const pixelsPerImage = spec.input.size[0] * spec.input.size[1];
  let probe: ReturnType<typeof countKernels> | undefined;
  const apply = handle.optimizer.applyGradients.bind(handle.optimizer);
  let optimizerMs = 0;
  handle.optimizer.applyGradients = (grads) => {
    if (probe) probe.state.phase = 'optimizer';
    const c0 = process.cpuUsage();
    try {
      return apply(grads);
    } finally {
      const c = process.cpuUsage(c0);
      if (probe) {
        optimizerMs += (c.user + c.system) / 1000;
        probe.state.phase = 'forward+backward';
      }
    }
  };
  const losses: number[] = [];
  const runStep = async (step: number) => {
    const values = await trainHostBatch({
      model,
      training,
      handle,
      batch: sampler.batchAt(step),
      seed: tfSeed(spec.train.seed, STREAM.latent, step),
      step,
      state,
    });
    state = training.nextObjectiveState(state, { reconstruction: values.reconstruction!, kl: values.KL!, pixelsPerImage });
    losses.push(values.loss!);
  };
  try {
    let step = 0;
    for (; step < opts.warmup; step++) await runStep(step);
    // Timed without the kernel probe (its clock reads cost ~2 us per kernel)...
    const clean0 = process.cpuUsage();
    const cleanT0 = performance.now();
    for (const end = step + opts.steps; step < end; step++) await runStep(step);
    const cleanWallMs = performance.now() - cleanT0;
    const clean = process.cpuUsage(clean0);
    // ...then as many steps again with it, for the per-kernel breakdown.
    const tensorsBefore = tf.memory().numTensors;
    probe = countKernels(tf.getBackend());
    const cpu0 = process.cpuUsage();
    for (const end = step + opts.steps; step < end; step++) await runStep(step);
    const cpu = process.cpuUsage(cpu0);
    probe.uninstall();
    const n = opts.steps;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const total = probe.phaseCalls['forward+backward'] + probe.phaseCalls.optimizer;
    const byKernel = [...probe.stats.entries()]
      .map(([name, s]) => {
        const calls = s.calls['forward+backward'] + s.calls.optimizer;
        return { name, callsPerStep: calls / n, optimizerCallsPerStep: s.calls.optimizer / n, msPerStep: s.ms / n, usPerCall: (1000 * s.ms) / calls };
      })
      .sort((a, b) => b.msPerStep - a.msPerStep);
    return {
      backend: selection.report,
      steps: n,
      cpuSecondsPerStep: (clean.user + clean.system) / 1e6 / n,
      wallSecondsPerStep: cleanWallMs / 1000 / n,
      kernelsPerStep: {
        'forward+backward': probe.phaseCalls['forward+backward'] / n,
        optimizer: probe.phaseCalls.optimizer / n,
        total: total / n,
      },
      kernelMsPerStep: probe.state.kernelMs / n,
      optimizerMsPerStep: optimizerMs / n,
      outsideKernelsMsPerStep: (cpuMs - probe.state.kernelMs) / n,
      overheadUsPerKernel: (1000 * (cpuMs - probe.state.kernelMs)) / total,
      byKernel,
      tensorsLeakedPerStep: (tf.memory().numTensors - tensorsBefore) / n,
      losses,
    };
  } finally {
    probe?.uninstall();
  }
}

export function formatTinyProfile(p: TinyProfile, top: number): string {
  const k = p.kernelsPerStep;
  const lines = [
    p.backend,
    `${p.steps} steps: ${(1000 * p.cpuSecondsPerStep).toFixed(1)} ms CPU/step, ${(1000 * p.wallSecondsPerStep).toFixed(1)} ms wall/step ` +
      `(then ${p.steps} more with the kernel probe for the figures below)`,
    `kernels per step: ${k.total.toFixed(0)} (forward+backward ${k['forward+backward'].toFixed(0)}, optimizer ${k.optimizer.toFixed(0)}); ` +
      `optimizer update ${p.optimizerMsPerStep.toFixed(1)} ms CPU/step`,
    `CPU in kernels ${p.kernelMsPerStep.toFixed(1)} ms/step, outside kernels ${p.outsideKernelsMsPerStep.toFixed(1)} ms/step ` +
      `(${p.overheadUsPerKernel.toFixed(1)} us per kernel dispatched)`,
    `tensors leaked per step: ${p.tensorsLeakedPerStep}`,
    `${'kernel'.padEnd(28)} ${'calls/step'.padStart(10)} ${'(optimizer)'.padStart(11)} ${'CPU ms/step'.padStart(11)} ${'us/call'.padStart(8)}`,
    ...p.byKernel
      .slice(0, top)
      .map(
        (r) =>
          `${r.name.padEnd(28)} ${r.callsPerStep.toFixed(1).padStart(10)} ${r.optimizerCallsPerStep.toFixed(1).padStart(11)} ${r.msPerStep.toFixed(2).padStart(11)} ${r.usPerCall.toFixed(1).padStart(8)}`,
      ),
    `losses: ${p.losses.map((l) => l.toFixed(4)).join(' ')}`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string', default: 'examples/prob-unet-tiny.punet' },
      backend: { type: 'string', default: 'wasm' },
      steps: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '5' },
      top: { type: 'string', default: '20' },
      json: { type: 'boolean' },
    },
  });
  const profile = await profileTinyStep({
    spec: values.spec!,
    backend: values.backend!,
    steps: Number(values.steps),
    warmup: Number(values.warmup),
  });
  process.stdout.write((values.json ? JSON.stringify(profile, null, 2) : formatTinyProfile(profile, Number(values.top))) + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`tiny-profile: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
