/**
 * Quality benchmark (issue 4): does the tiny Probabilistic U-Net learn the built-in ambiguous
 * data's distribution? On the test split, with N prior samples per image (default 16), it
 * compares the model with
 *   - a deterministic U-Net: the same spec with the latent removed (U-Net + combiner trained
 *     with z = 0, same loss, optimizer, steps and batches; bench/quality-deterministic.ts),
 *   - the model's own prior mean (all N samples equal),
 *   - references from the known distribution: an exact sampler and the most probable mode,
 * on GED (LIDC conventions), Hungarian-matched IoU, sample diversity and the total variation
 * between the samples' mode frequencies and the true ones (with its exact-sampler floor), plus
 * how often each shape is segmented against its true probability. Prints a table and writes
 * JSON to bench/results/.
 *
 *   node bench-dist/bench/quality.js [--spec examples/prob-unet-tiny.punet] [--steps N] [--seed N]
 *        [--backend wasm] [--samples 16] [--run RUN_DIR] [--checkpoint best|last]
 *        [--no-baseline-training] [--out RUN_DIR] [--json]
 *
 * Without --run it trains the spec first (in this process; CPU time measured) into --out
 * (default bench/results/runs/<model>-<time>). With --run it evaluates a finished run.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { ProbabilisticSegmenter } from '../compiler/api.js';
import { specHash } from '../compiler/provenance.js';
import type { Dataset, DataItem } from '../runtime/data/types.js';
import { newRunDir, readJson, runPath, writeJsonAtomic } from '../runtime/run/folder.js';
import {
  applyOverrides,
  compileOrFail,
  describeData,
  loadData,
  loadSpecOrFail,
  openRun,
  useBackend,
} from '../runtime/run/session.js';
import { setupMetrics, scoreImage, type MetricSetup } from '../runtime/sample/evaluate.js';
import { sampleItems } from '../runtime/sample/sampler.js';
import { STREAM } from '../runtime/train/rng.js';
import { train } from '../runtime/train/trainer.js';
import type { ResolvedSpec } from '../spec/types.js';
import { trainDeterministic } from './quality-deterministic.js';
import { exactSamples, marginalCalibration, modeTvFloor, mostProbableMode, type MarginalBin } from './quality-references.js';

const METRICS = ['ged', 'hungarian-iou', 'diversity', 'mode-tv'] as const;

export interface RowResult {
  name: string;
  /** Mean over test images, per metric (NaN values skipped, e.g. diversity of identical samples). */
  metrics: Record<string, number>;
  /** Per test image GED, for paired comparisons. */
  gedPerImage: number[];
  marginals: MarginalBin[];
}

export interface QualityResult {
  spec: string;
  run: string;
  checkpoint: { which: string; step: number };
  backend: string;
  samples: number;
  testImages: number;
  data: Record<string, unknown>;
  train?: { steps: number; cpuSeconds: number; wallSeconds: number; secondsPerStepCpu: number };
  baselineTrain?: { steps: number; cpuSeconds: number; wallSeconds: number; parameters: number };
  rows: RowResult[];
  modeTvFloor: number;
  /** Paired over test images: deterministic GED - probabilistic GED. */
  gedGain: { versus: string; mean: number; standardError: number; imagesBetter: number; ratio: number };
  totalCpuSeconds: number;
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

const mean = (xs: number[]) => {
  const finite = xs.filter((x) => !Number.isNaN(x));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
};

/** Scores N masks per test image (from a model or a reference) on the benchmark's metrics. */
function scoreRow(name: string, setup: MetricSetup, items: DataItem[], samples: Uint8Array[][], width: number): RowResult {
  const perMetric = new Map<string, number[]>();
  items.forEach((item, k) => {
    const masks = samples[k]!;
    const scores = scoreImage(setup, { masks, foreground: masks.map((m) => Float32Array.from(m, (c) => (c ? 1 : 0))) }, item.annotations, item.modes);
    for (const [id, v] of Object.entries(scores)) perMetric.set(id, [...(perMetric.get(id) ?? []), v]);
  });
  return {
    name,
    metrics: Object.fromEntries([...perMetric].map(([id, vs]) => [id, mean(vs)])),
    gedPerImage: perMetric.get('ged') ?? [],
    marginals: marginalCalibration(items, samples, width),
  };
}

async function modelSamples(segmenter: ProbabilisticSegmenter, dataset: Dataset, spec: ResolvedSpec, n: number, perScale?: Array<'sample' | 'mean'>) {
  const samples = await sampleItems(segmenter, dataset, dataset.splits.test, n, {
    seed: spec.train.seed,
    stream: STREAM.evaluation,
    batchSize: spec.train.batch_size,
    perScale,
  });
  return samples.map((s) => s.masks);
}

function pairedGain(better: number[], worse: number[]) {
  const diffs = worse.map((w, i) => w - better[i]!);
  const m = mean(diffs);
  const variance = diffs.reduce((s, d) => s + (d - m) ** 2, 0) / Math.max(1, diffs.length - 1);
  return {
    mean: m,
    standardError: Math.sqrt(variance / Math.max(1, diffs.length)),
    imagesBetter: diffs.filter((d) => d > 0).length,
    ratio: mean(better) / mean(worse),
  };
}

export interface QualityOptions {
  spec?: string;
  run?: string;
  out?: string;
  steps?: number;
  seed?: number;
  backend?: string;
  samples?: number;
  checkpoint?: 'best' | 'last';
  baselineTraining?: boolean;
  log?: (line: string) => void;
}

export async function benchQuality(o: QualityOptions = {}): Promise<QualityResult> {
  const log = o.log ?? (() => {});
  const cpuStart = process.cpuUsage();
  const n = o.samples ?? 16;
  let runDir: string;
  let specFile: string;
  let trainInfo: QualityResult['train'];
  let backend: string;

  if (o.run) {
    runDir = resolve(o.run);
    const runSpec = readJson<ResolvedSpec>(runPath(runDir, 'spec'));
    specFile = runSpec.model;
    backend = await useBackend(o.backend ?? runSpec.train.backend, '--backend', (s) => log(s.trimEnd()));
  } else {
    specFile = o.spec ?? 'examples/prob-unet-tiny.punet';
    const loaded = await loadSpecOrFail(specFile, (s) => process.stderr.write(s));
    const spec = applyOverrides(loaded.spec, loaded.registry, { steps: o.steps, seed: o.seed, backend: o.backend });
    backend = await useBackend(spec.train.backend, '--backend', (s) => log(s.trimEnd()));
    const dataset = await loadData(spec, loaded.registry, dirname(loaded.file));
    log(describeData(dataset));
    runDir = o.out ? resolve(o.out) : newRunDir('bench/results/runs', spec.model);
    mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(runPath(runDir, 'spec'), spec);
    writeJsonAtomic(runPath(runDir, 'run'), { specFile: loaded.file, specDir: dirname(loaded.file), punetVersion: 'bench', started: new Date().toISOString(), command: ['bench/quality'] });
    const compiled = compileOrFail(spec, loaded.registry);
    log(`training ${spec.model} (${compiled.parameterCount} parameters) for ${spec.train.steps} steps into ${runDir}`);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const sink = { write: (s: string) => (log(s.trimEnd()), true) };
    await train({ spec, registry: loaded.registry, model: compiled, dataset, runDir, specHash: specHash(spec), out: sink });
    const cpu = cpuSeconds(cpu0);
    trainInfo = { steps: spec.train.steps, cpuSeconds: cpu, wallSeconds: (performance.now() - wall0) / 1000, secondsPerStepCpu: cpu / spec.train.steps };
    compiled.dispose();
  }

  const opened = await openRun(runDir, o.checkpoint ?? 'best', (s) => log(`warning: ${s}`));
  const { spec, registry } = opened;
  const dataset = await loadData(spec, registry, opened.info.specDir || runDir);
  const items = dataset.splits.test.map((i) => dataset.items[i]!);
  if (!items.length || !items.every((it) => it.modes?.length)) {
    throw new Error('the quality benchmark needs a test split with known modes (the built-in synthetic data)');
  }
  const setup = setupMetrics(spec, registry, [...METRICS]);
  const width = dataset.width;
  const step = opened.checkpoint.checkpoint.meta.step;
  log(`evaluating ${opened.which} checkpoint (step ${step}) on ${items.length} test images, ${n} samples each`);

  const rows: RowResult[] = [];
  rows.push(scoreRow('prob. U-Net (prior samples)', setup, items, await modelSamples(opened.compiled.segmenter, dataset, spec, n), width));
  rows.push(scoreRow('prob. U-Net, prior mean (all equal)', setup, items, await modelSamples(opened.compiled.segmenter, dataset, spec, n, ['mean']), width));

  let baselineTrain: QualityResult['baselineTrain'];
  if (o.baselineTraining !== false) {
    log(`training the deterministic U-Net (same spec, latent removed) for ${spec.train.steps} steps`);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const det = trainDeterministic(spec, registry, dataset, log);
    baselineTrain = { steps: spec.train.steps, cpuSeconds: cpuSeconds(cpu0), wallSeconds: (performance.now() - wall0) / 1000, parameters: det.parameters };
    rows.push(scoreRow('deterministic U-Net (latent removed)', setup, items, await modelSamples(det.segmenter, dataset, spec, n), width));
    det.dispose();
  }
  rows.push(scoreRow('reference: exact sampler', setup, items, items.map((it, k) => exactSamples(it.modes!, n, spec.train.seed, k)), width));
  rows.push(scoreRow('reference: most probable mode', setup, items, items.map((it) => mostProbableMode(it.modes!, n)), width));
  opened.compiled.dispose();

  const versus = rows.find((r) => r.name.startsWith('deterministic')) ?? rows[1]!;
  return {
    spec: specFile,
    run: runDir,
    checkpoint: { which: opened.which, step },
    backend,
    samples: n,
    testImages: items.length,
    data: (dataset.provenance.options as Record<string, unknown>) ?? {},
    ...(trainInfo ? { train: trainInfo } : {}),
    ...(baselineTrain ? { baselineTrain } : {}),
    rows,
    modeTvFloor: modeTvFloor(items, n),
    gedGain: { versus: versus.name, ...pairedGain(rows[0]!.gedPerImage, versus.gedPerImage) },
    totalCpuSeconds: cpuSeconds(cpuStart),
  };
}

export function formatQuality(r: QualityResult): string {
  const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));
  const header = ['', `GED (${r.samples})`, 'HM-IoU', 'diversity', 'mode TV'];
  const table = [header, ...r.rows.map((row) => [row.name, ...METRICS.map((id) => fmt(row.metrics[id]))])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `quality on ${r.testImages} test images (${r.samples} samples each), ${r.checkpoint.which} checkpoint at step ${r.checkpoint.step}, backend ${r.backend}`,
    line(table[0]!),
    line(widths.map((w) => '-'.repeat(w))),
    ...table.slice(1).map(line),
    `mode TV floor of an exact sampler with ${r.samples} samples: ${fmt(r.modeTvFloor)}`,
    `GED gain over ${r.gedGain.versus}: ${fmt(r.gedGain.mean)} +- ${fmt(r.gedGain.standardError)} (paired s.e.), ` +
      `ratio ${fmt(r.gedGain.ratio)}, lower on ${r.gedGain.imagesBetter}/${r.testImages} images`,
    '',
    `how often a shape is segmented vs its true probability (prior samples | ${r.gedGain.versus} | exact sampler):`,
  ];
  const byName = (prefix: string) => r.rows.find((row) => row.name.startsWith(prefix))?.marginals ?? [];
  const prob = byName('prob. U-Net (prior');
  for (const bin of prob) {
    const other = (prefix: string) => byName(prefix).find((b) => b.probability === bin.probability)?.predicted;
    out.push(`  p ~ ${bin.probability.toFixed(2)} (${String(bin.structures).padStart(3)} shapes, true ${bin.truth.toFixed(3)}): ${fmt(bin.predicted)} | ${fmt(other(r.gedGain.versus))} | ${fmt(other('reference: exact'))}`);
  }
  if (r.train) out.push('', `training: ${r.train.steps} steps, ${r.train.cpuSeconds.toFixed(1)} s CPU (${(r.train.secondsPerStepCpu * 1000).toFixed(0)} ms/step), ${r.train.wallSeconds.toFixed(1)} s wall`);
  if (r.baselineTrain) out.push(`deterministic baseline training: ${r.baselineTrain.cpuSeconds.toFixed(1)} s CPU`);
  out.push(`whole benchmark: ${r.totalCpuSeconds.toFixed(1)} s CPU; run folder ${r.run}`);
  return out.join('\n');
}

const HELP = `usage: node bench-dist/bench/quality.js [options]

  --spec FILE            spec to train (default examples/prob-unet-tiny.punet)
  --steps N, --seed N    override train.steps / train.seed
  --backend B            auto, wasm, cpu, ... (default: the spec's)
  --out RUN_DIR          where to train (default bench/results/runs/<model>-<time>)
  --run RUN_DIR          evaluate a finished run instead of training
  --checkpoint WHICH     best (default, as compile-and-train evaluates) or last
  --samples N            samples per test image (default 16)
  --no-baseline-training skip the trained deterministic U-Net (prior mean is still reported)
  --json                 print the JSON result instead of the table
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      spec: { type: 'string' },
      run: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      samples: { type: 'string' },
      checkpoint: { type: 'string' },
      'no-baseline-training': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < 0) throw new Error(`--${name} must be a non-negative integer, got '${v}'`);
    return x;
  };
  if (values.checkpoint && values.checkpoint !== 'best' && values.checkpoint !== 'last') throw new Error(`--checkpoint must be best or last`);
  const log = (s: string) => process.stderr.write(s + '\n');
  const result = await benchQuality({
    spec: values.spec,
    run: values.run,
    out: values.out,
    steps: int('steps', values.steps),
    seed: int('seed', values.seed),
    backend: values.backend,
    samples: int('samples', values.samples),
    checkpoint: values.checkpoint as 'best' | 'last' | undefined,
    baselineTraining: !values['no-baseline-training'],
    log,
  });
  const dir = resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `quality-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(file, result);
  process.stdout.write((values.json ? JSON.stringify(result, null, 2) : formatQuality(result)) + '\n');
  process.stderr.write(`results written to ${file}\n`);
  tf.disposeVariables();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`quality benchmark failed: ${e.message}\n`);
    process.exit(1);
  });
}
