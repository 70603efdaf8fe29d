/**
 * Sampling speed: 16 prior samples per image against one forward pass (U-Net + prior + one
 * combiner pass). The U-Net features and the prior are computed once per image (`prepare`), so
 * 16 samples should cost little more than one: target <= 1.5x. Also reports samples/s and the
 * naive cost (a full forward pass per sample) for comparison.
 *
 *   node bench-dist/bench/sampling.js [--spec FILE.punet] [--backend auto|wasm|cpu|...] [--batch 1]
 *                               [--samples 16] [--repeats 5] [--json]
 *
 * Without --spec: the LIDC contract spec (128x128, 4 levels, ~5M parameters).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../compiler/compile.js';
import { createRegistry } from '../plugins/index.js';
import { selectBackend, type BackendRequest } from '../runtime/backends/select.js';
import { loadSpecOrFail } from '../runtime/run/session.js';
import type { ResolvedSpec } from '../spec/types.js';

export interface SamplingBenchResult {
  backend: string;
  spec: string;
  batch: number;
  samples: number;
  /** Median seconds: prepare + 1 sample, read back. */
  forwardSeconds: number;
  /** Median seconds: prepare + n samples in one combiner pass, read back. */
  batchedSeconds: number;
  /** n full forward passes (what sampling would cost without feature reuse). */
  naiveSeconds: number;
  ratio: number;
  samplesPerSecond: number;
  target: number;
  pass: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeIt(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn(); // warm-up: kernel compilation, first allocations
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

export async function benchSampling(opts: { spec?: string; backend?: string; batch?: number; samples?: number; repeats?: number; log?: (s: string) => void } = {}): Promise<SamplingBenchResult> {
  const log = opts.log ?? (() => {});
  const selection = await selectBackend((opts.backend ?? 'auto') as BackendRequest, { source: '--backend' });
  log(selection.report);
  let spec: ResolvedSpec;
  let registry = createRegistry();
  let specName = 'docs/contract/prob-unet-lidc.resolved.json';
  if (opts.spec) {
    const loaded = await loadSpecOrFail(opts.spec, (s) => process.stderr.write(s));
    spec = loaded.spec;
    registry = loaded.registry;
    specName = opts.spec;
  } else {
    spec = JSON.parse(readFileSync(fileURLToPath(new URL('../../docs/contract/prob-unet-lidc.resolved.json', import.meta.url)), 'utf8').toString()) as ResolvedSpec;
  }
  const compiled = compileModel(spec, registry, { seed: 1 });
  const seg = compiled.segmenter;
  const B = opts.batch ?? 1;
  const n = opts.samples ?? 16;
  const repeats = opts.repeats ?? 5;
  const [H, W] = spec.input.size;
  const images = tf.randomUniform([B, H, W, spec.input.channels], 0, 1, 'float32', 3);

  const run = async (count: number) => {
    const prepared = seg.prepare(images);
    const logits = seg.sample(prepared, count, { seed: 5 });
    await logits.data();
    logits.dispose();
    prepared.dispose();
  };
  const forwardSeconds = await timeIt(() => run(1), repeats);
  const batchedSeconds = await timeIt(() => run(n), repeats);
  const naiveSeconds = forwardSeconds * n;
  images.dispose();
  compiled.dispose();
  const ratio = batchedSeconds / forwardSeconds;
  const result: SamplingBenchResult = {
    backend: selection.name,
    spec: specName,
    batch: B,
    samples: n,
    forwardSeconds,
    batchedSeconds,
    naiveSeconds,
    ratio,
    samplesPerSecond: (B * n) / batchedSeconds,
    target: 1.5,
    pass: ratio <= 1.5,
  };
  log(
    `${specName} ${H}x${W}, batch ${B}: one forward pass ${(forwardSeconds * 1000).toFixed(1)} ms; ` +
      `${n} samples ${(batchedSeconds * 1000).toFixed(1)} ms = ${ratio.toFixed(2)}x (target <= 1.5x: ${result.pass ? 'met' : 'MISSED'}); ` +
      `${result.samplesPerSecond.toFixed(1)} samples/s; without feature reuse ${n} samples would take ~${(naiveSeconds * 1000).toFixed(0)} ms`,
  );
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      backend: { type: 'string' },
      batch: { type: 'string' },
      samples: { type: 'string' },
      repeats: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  benchSampling({
    spec: values.spec,
    backend: values.backend,
    batch: values.batch ? Number(values.batch) : undefined,
    samples: values.samples ? Number(values.samples) : undefined,
    repeats: values.repeats ? Number(values.repeats) : undefined,
    log: values.json ? undefined : (s) => console.log(s),
  }).then(
    (r) => {
      if (values.json) console.log(JSON.stringify(r, null, 2));
      process.exitCode = r.pass ? 0 : 1;
    },
    (e) => {
      console.error(`bench/sampling: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
