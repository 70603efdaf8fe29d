/**
 * Hierarchical vs flat Probabilistic U-Net on the built-in data (issue 5's benchmark note).
 * Trains examples/prob-unet-tiny.punet and examples/hierarchical-tiny.punet with the same data,
 * steps, seed and backend, one after the other in this process, then scores each on the test
 * split with N prior samples per image (default 16): GED, Hungarian-matched IoU, total variation
 * between the samples' mode frequencies and the true ones, and sample diversity. Training time
 * per step is measured in CPU time (all threads of this process) and wall time. Prints a table
 * and writes JSON to bench/results/.
 *
 *   node bench-dist/bench/hierarchical-vs-flat.js [--steps 400] [--seed N] [--backend wasm]
 *        [--samples 16] [--checkpoint last|best] [--out DIR] [--specs a.punet,b.punet] [--json]
 *
 * `--checkpoint last` (the default) scores both models after exactly the same number of steps;
 * `best` scores the checkpoint with the lowest validation GED, as compile-and-train does.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { specHash } from '../compiler/provenance.js';
import { readLatestCheckpoint } from '../runtime/run/checkpoint.js';
import { runPath, writeJsonAtomic } from '../runtime/run/folder.js';
import { applyOverrides, compileOrFail, describeData, loadData, loadSpecOrFail, useBackend } from '../runtime/run/session.js';
import { evaluateSplit } from '../runtime/sample/evaluate.js';
import { jsonSafe } from '../runtime/sample/report.js';
import { restoreWeights } from '../runtime/train/snapshot.js';
import { train } from '../runtime/train/trainer.js';
import { stepTimer, type StepTimes } from './step-timer.js';

const METRICS = ['ged', 'hungarian-iou', 'mode-tv', 'diversity'] as const;
const DEFAULT_SPECS = ['examples/prob-unet-tiny.punet', 'examples/hierarchical-tiny.punet'];

export interface ModelResult {
  spec: string;
  model: string;
  architecture: string;
  parameters: number;
  steps: number;
  seed: number;
  checkpoint: { which: 'best' | 'last'; step: number };
  /** Mean over test images; `nan` counts images whose value was NaN (left out of the mean). */
  metrics: Record<string, { mean: number; nan: number }>;
  train: { cpuSeconds: number; wallSeconds: number; perStep: StepTimes };
  runDir: string;
}

export interface HierarchicalVsFlatResult {
  backend: string;
  samples: number;
  data: string;
  testImages: number;
  models: ModelResult[];
  totalCpuSeconds: number;
  totalWallSeconds: number;
  time: string;
}

export interface BenchOptions {
  specs?: string[];
  steps?: number;
  seed?: number;
  backend?: string;
  samples?: number;
  checkpoint?: 'best' | 'last';
  out?: string;
  log?: (line: string) => void;
}

const cpuSecondsSince = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

export async function benchHierarchicalVsFlat(o: BenchOptions = {}): Promise<HierarchicalVsFlatResult> {
  const log = o.log ?? (() => {});
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const n = o.samples ?? 16;
  const which = o.checkpoint ?? 'last';
  const outDir = resolve(o.out ?? join('bench/results', `hierarchical-vs-flat-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const models: ModelResult[] = [];
  let backend = '';
  let dataDescription = '';
  let testImages = 0;

  for (const specFile of o.specs ?? DEFAULT_SPECS) {
    const loaded = await loadSpecOrFail(specFile, (s) => process.stderr.write(s));
    const spec = applyOverrides(loaded.spec, loaded.registry, { steps: o.steps ?? 400, seed: o.seed, backend: o.backend ?? 'wasm' });
    backend = await useBackend(spec.train.backend, '--backend', (s) => log(s.trimEnd()));
    const dataset = await loadData(spec, loaded.registry, dirname(loaded.file));
    dataDescription = describeData(dataset);
    testImages = dataset.splits.test.length;
    log(dataDescription);

    const runDir = join(outDir, spec.model);
    mkdirSync(runDir, { recursive: true });
    writeJsonAtomic(runPath(runDir, 'spec'), spec);
    writeJsonAtomic(runPath(runDir, 'run'), {
      specFile: loaded.file,
      specDir: dirname(loaded.file),
      punetVersion: 'bench',
      started: new Date().toISOString(),
      command: ['bench/hierarchical-vs-flat'],
    });
    const compiled = compileOrFail(spec, loaded.registry);
    const model = compiled;
    log(`training ${spec.model} (${spec.architecture.kind}, ${compiled.parameterCount} parameters) for ${spec.train.steps} steps, seed ${spec.train.seed}`);
    try {
      const timer = stepTimer(log);
      const trainCpu0 = process.cpuUsage();
      const trainWall0 = performance.now();
      const result = await train({ spec, registry: loaded.registry, model, dataset, runDir, specHash: specHash(spec), out: timer.sink });
      const trainInfo = { cpuSeconds: cpuSecondsSince(trainCpu0), wallSeconds: (performance.now() - trainWall0) / 1000, perStep: timer.result() };

      let step = result.step;
      let used: 'best' | 'last' = 'last';
      if (which === 'best') {
        const best = readLatestCheckpoint(runPath(runDir, 'best'), (m) => log(`warning: ${m}`));
        if (best) {
          restoreWeights(model, best.checkpoint.weights);
          step = best.checkpoint.meta.step;
          used = 'best';
        }
      }
      log(`scoring ${spec.model} (${used} weights, step ${step}) on ${testImages} test images, ${n} samples each`);
      const report = await evaluateSplit(model.segmenter, dataset, spec, loaded.registry, {
        split: 'test',
        sampleCounts: [n],
        seed: spec.train.seed,
        batchSize: spec.train.batch_size,
        metricIds: [...METRICS],
      });
      const scores = report.results[String(n)] ?? {};
      models.push({
        spec: specFile,
        model: spec.model,
        architecture: spec.architecture.kind,
        parameters: compiled.parameterCount,
        steps: spec.train.steps,
        seed: spec.train.seed,
        checkpoint: { which: used, step },
        metrics: Object.fromEntries(METRICS.map((id) => [id, { mean: scores[id]?.mean ?? NaN, nan: scores[id]?.nan ?? 0 }])),
        train: trainInfo,
        runDir,
      });
    } finally {
      compiled.dispose();
    }
  }
  return {
    backend,
    samples: n,
    data: dataDescription,
    testImages,
    models,
    totalCpuSeconds: cpuSecondsSince(cpu0),
    totalWallSeconds: (performance.now() - wall0) / 1000,
    time: new Date().toISOString(),
  };
}

export function formatResult(r: HierarchicalVsFlatResult): string {
  const f = (v: number, digits = 4) => (Number.isFinite(v) ? v.toFixed(digits) : 'NaN');
  const header = ['model', 'params', `GED (${r.samples})`, 'HM-IoU', 'mode TV', 'diversity', 'CPU ms/step', 'wall ms/step', 'train CPU s', 'train wall s'];
  const rows = r.models.map((m) => [
    `${m.model} (${m.checkpoint.which}, step ${m.checkpoint.step})`,
    String(m.parameters),
    ...METRICS.map((id) => f(m.metrics[id]!.mean) + (m.metrics[id]!.nan ? ` (${m.metrics[id]!.nan} NaN)` : '')),
    f(m.train.perStep.medianCpuMs, 0),
    f(m.train.perStep.medianWallMs, 0),
    f(m.train.cpuSeconds, 1),
    f(m.train.wallSeconds, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `hierarchical vs flat: ${r.data}; test split ${r.testImages} images, ${r.samples} prior samples each; backend ${r.backend}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    'ms/step: median over training steps (validation and checkpoints excluded); train CPU/wall s: the whole training incl. validation.',
    `whole benchmark: ${f(r.totalCpuSeconds, 1)} s CPU, ${f(r.totalWallSeconds, 1)} s wall`,
  ].join('\n');
}

const HELP = `usage: node bench-dist/bench/hierarchical-vs-flat.js [options]

  --steps N              training steps of each model (default 400)
  --seed N               override train.seed of both specs (default: the specs' seed)
  --backend B            wasm (default), cpu, auto, ...
  --samples N            prior samples per test image (default 16)
  --checkpoint WHICH     last (default: both scored after the same steps) or best (lowest validation GED)
  --specs A,B            the specs to compare (default ${DEFAULT_SPECS.join(',')})
  --out DIR              run folders (default bench/results/hierarchical-vs-flat-<time>)
  --json                 print the JSON result instead of the table
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      samples: { type: 'string' },
      checkpoint: { type: 'string' },
      specs: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const int = (name: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
    return x;
  };
  if (values.checkpoint && values.checkpoint !== 'best' && values.checkpoint !== 'last') throw new Error('--checkpoint must be last or best');
  const log = (s: string) => process.stderr.write(s + '\n');
  const result = await benchHierarchicalVsFlat({
    specs: values.specs?.split(',').map((s) => s.trim()).filter(Boolean),
    steps: int('steps', values.steps, 1),
    seed: int('seed', values.seed, 0),
    backend: values.backend,
    samples: int('samples', values.samples, 1),
    checkpoint: values.checkpoint as 'best' | 'last' | undefined,
    out: values.out,
    log,
  });
  const dir = resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `hierarchical-vs-flat-${result.time.replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(file, jsonSafe(result));
  process.stdout.write((values.json ? JSON.stringify(jsonSafe(result), null, 2) : formatResult(result)) + '\n');
  process.stderr.write(`results written to ${file}\n`);
  tf.disposeVariables();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`hierarchical-vs-flat benchmark failed: ${e.message}\n`);
    process.exit(1);
  });
}
