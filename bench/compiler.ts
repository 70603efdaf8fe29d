/**
 * Compiled-model speed: training forward, sampling, and forward+backward+Adam step at batch 8,
 * 128x128, the LIDC contract spec (or any spec file), on the current (or requested) backend, with
 * GFLOP/s from the analytical FLOP count (compiler/flops.ts) and the process's peak RSS. The
 * comparison with PyTorch, run side by side, is bench/vs-pytorch.ts.
 *
 *   node bench-dist/bench/compiler.js [--backend auto|tensorflow|webgpu|wasm|cpu] [--batch 8]
 *                               [--size 128] [--spec FILE.punet] [--repeats 3] [--samples 16] [--json]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../compiler/compile.js';
import { compileTraining, trainStep } from '../compiler/training.js';
import { countFlops } from '../compiler/flops.js';
import { createRegistry } from '../plugins/index.js';
import type { ResolvedSpec } from '../spec/types.js';

export interface CompilerBenchOptions {
  backend?: string;
  batch?: number;
  size?: number;
  repeats?: number;
  samples?: number;
  /** A .punet file to time instead of the LIDC contract spec (its input size unless `size` is given). */
  specFile?: string;
  log?: (line: string) => void;
}

export interface Timing {
  /** Median of the measured repeats, seconds. */
  seconds: number;
  /** The first (warm-up) run, seconds. */
  firstSeconds: number;
  /** Process CPU seconds of the median run (user + system). */
  cpuSeconds: number;
  gflopsPerSecond: number;
}

export interface CompilerBenchResult {
  backend: string;
  backendReport: string;
  batch: number;
  size: number;
  parameters: number;
  flopsPerImage: { trainForward: number; trainStep: number; prepare: number; perSample: number };
  trainForward: Timing;
  sample: Timing & { samples: number };
  trainStep: Timing;
  /** Peak resident memory of the whole process (all three measurements), MB. */
  peakRssMB: number;
  /** The resolved spec that ran (the PyTorch reference builds the same model from it). */
  spec: ResolvedSpec;
}

export async function useBackend(requested: string): Promise<{ name: string; report: string }> {
  try {
    const { selectBackend } = await import('../runtime/backends/select.js');
    const sel = await selectBackend(requested as never, { source: '--backend' });
    return { name: sel.name, report: sel.report };
  } catch (err) {
    if (requested !== 'auto' && requested !== 'cpu') throw err;
    await tf.setBackend('cpu');
    return { name: 'cpu', report: `backend: cpu (backend selection unavailable: ${(err as Error).message.split('\n')[0]})` };
  }
}

/** A spec file, resolved and validated like the CLI does; errors name the file. */
export async function specFromFile(file: string, size?: number): Promise<ResolvedSpec> {
  const { loadSpec } = await import('../spec/index.js');
  const result = await loadSpec(file, { registry: createRegistry() });
  if (!result.spec) throw new Error(`${file}: ${result.diagnostics.find((d) => d.severity === 'error')?.message ?? 'invalid spec'}`);
  const spec = result.spec;
  if (size !== undefined) spec.input = { ...spec.input, size: [size, size] };
  return spec;
}

export function contractSpec(size: number): ResolvedSpec {
  const file = fileURLToPath(new URL('../docs/contract/prob-unet-lidc.resolved.json', import.meta.url));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // Running from dist/: the docs live next to dist's parent.
    text = readFileSync(fileURLToPath(new URL('../../docs/contract/prob-unet-lidc.resolved.json', import.meta.url)), 'utf8');
  }
  const spec = JSON.parse(text) as ResolvedSpec;
  spec.input = { ...spec.input, size: [size, size] };
  return spec;
}

/**
 * Wall time (first run, then the median of `repeats`) and the process CPU time of the median
 * run: on a shared machine the wall time includes waiting for a core, the CPU time does not
 * (wasm and cpu run on one thread in Node, so CPU time ~ uncontended wall time there).
 */
async function time(repeats: number, fn: () => Promise<void>): Promise<{ first: number; median: number; cpu: number }> {
  const measure = async () => {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    const used = process.cpuUsage(c);
    return { wall: (performance.now() - t) / 1000, cpu: (used.user + used.system) / 1e6 };
  };
  const first = await measure();
  const runs: Array<{ wall: number; cpu: number }> = [];
  for (let i = 0; i < repeats; i++) runs.push(await measure());
  runs.sort((a, b) => a.wall - b.wall);
  const mid = runs[Math.floor(runs.length / 2)] ?? first;
  return { first: first.wall, median: mid.wall, cpu: mid.cpu };
}

export async function benchCompiler(opts: CompilerBenchOptions = {}): Promise<CompilerBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const batch = opts.batch ?? 8;
  const spec = opts.specFile ? await specFromFile(opts.specFile, opts.size) : contractSpec(opts.size ?? 128);
  const size = spec.input.size[0];
  const repeats = opts.repeats ?? 3;
  const samples = opts.samples ?? 16;
  const backend = await useBackend(opts.backend ?? 'auto');
  log(backend.report);

  const registry = createRegistry();
  const model = compileModel(spec, registry, { seed: 1 });
  const training = compileTraining(spec, registry);
  const handle = training.createOptimizer();
  const flops = countFlops(model.summary);
  const images = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1);
  const masks = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([batch, size, size], 0, 1, 'float32', 2), 0.7), 'int32'));
  const gflops = (flopsPerImage: number, seconds: number) => (flopsPerImage * batch) / seconds / 1e9;

  try {
    log(`training forward x${repeats + 1} (batch ${batch}, ${size}x${size})...`);
    const fwd = await time(repeats, async () => {
      const logits = tf.tidy(() => model.segmenter.trainForward(images, masks, 3).logits);
      await logits.data();
      logits.dispose();
    });
    log(`  median ${fwd.median.toFixed(3)} s, cpu ${fwd.cpu.toFixed(2)} s (first ${fwd.first.toFixed(2)} s), ${gflops(flops.trainForward, fwd.median).toFixed(2)} GFLOP/s`);
    log(`sampling (prepare + ${samples} samples) x${repeats + 1}...`);
    const smp = await time(repeats, async () => {
      const prepared = model.segmenter.prepare(images);
      const logits = model.segmenter.sample(prepared, samples, { seed: 4 });
      await logits.data();
      logits.dispose();
      prepared.dispose();
    });
    log(`  median ${smp.median.toFixed(3)} s, cpu ${smp.cpu.toFixed(2)} s (first ${smp.first.toFixed(2)} s)`);
    log(`training step x${repeats + 1}...`);
    let step = 0;
    const stp = await time(repeats, async () => {
      await trainStep(model, training, handle, { images, masks, seed: 5 + step, step: step++, state: {} });
    });
    log(`  median ${stp.median.toFixed(3)} s, cpu ${stp.cpu.toFixed(2)} s (first ${stp.first.toFixed(2)} s), ${gflops(flops.trainStep, stp.median).toFixed(2)} GFLOP/s`);
    const sampleFlops = flops.prepare + samples * flops.perSample;
    return {
      backend: backend.name,
      backendReport: backend.report,
      batch,
      size,
      parameters: model.parameterCount,
      flopsPerImage: { trainForward: flops.trainForward, trainStep: flops.trainStep, prepare: flops.prepare, perSample: flops.perSample },
      trainForward: { seconds: fwd.median, firstSeconds: fwd.first, cpuSeconds: fwd.cpu, gflopsPerSecond: gflops(flops.trainForward, fwd.median) },
      sample: { seconds: smp.median, firstSeconds: smp.first, cpuSeconds: smp.cpu, gflopsPerSecond: gflops(sampleFlops, smp.median), samples },
      trainStep: { seconds: stp.median, firstSeconds: stp.first, cpuSeconds: stp.cpu, gflopsPerSecond: gflops(flops.trainStep, stp.median) },
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      spec,
    };
  } finally {
    try {
      handle.optimizer.dispose();
      tf.dispose([images, masks]);
      model.dispose();
    } catch (err) {
      // Measurements stand even if the backend fails to free memory; say so.
      log(`warning: freeing tensors failed on ${backend.name}: ${(err as Error).message}`);
    }
  }
}

export function formatCompilerBench(r: CompilerBenchResult): string {
  const row = (name: string, t: Timing, extra = '') =>
    `${name.padEnd(28)} ${t.seconds.toFixed(3).padStart(8)} s  cpu ${t.cpuSeconds.toFixed(2).padStart(6)} s  (first ${t.firstSeconds.toFixed(2)} s)  ${t.gflopsPerSecond.toFixed(2).padStart(7)} GFLOP/s${extra}`;
  return [
    `compiled ${r.spec.model}: ${r.parameters.toLocaleString('en-US')} parameters, batch ${r.batch}, ${r.size}x${r.size}, ${r.backendReport}`,
    `FLOPs per image: training forward ${(r.flopsPerImage.trainForward / 1e9).toFixed(2)} G, step ${(r.flopsPerImage.trainStep / 1e9).toFixed(2)} G (3x forward)`,
    row('training forward', r.trainForward),
    row(`prepare + ${r.sample.samples} samples`, r.sample),
    row('forward+backward+Adam step', r.trainStep),
    `peak RSS ${r.peakRssMB.toFixed(0)} MB`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'auto' },
      batch: { type: 'string', default: '8' },
      size: { type: 'string' },
      repeats: { type: 'string', default: '3' },
      samples: { type: 'string', default: '16' },
      spec: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const result = await benchCompiler({
    backend: values.backend,
    batch: Number(values.batch),
    size: values.size === undefined ? undefined : Number(values.size),
    specFile: values.spec,
    repeats: Number(values.repeats),
    samples: Number(values.samples),
  });
  process.stdout.write((values.json ? JSON.stringify(result, null, 2) : formatCompilerBench(result)) + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`bench/compiler: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 1;
  });
}
