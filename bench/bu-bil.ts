/**
 * BU-BIL dataset 1 end to end, scripted (issue 6): `punet import` -> `punet compile-and-train
 * examples/bu-bil.punet` -> `punet eval RUN --samples 1,4,8,16`, each through the CLI's own
 * command code in this process, with CPU time (all threads of this process) and wall time per
 * phase and per training step. Prints the import summary, the evaluation table (GED and
 * Hungarian-matched IoU per sample count) and the figure files; writes JSON to bench/results/.
 *
 *   node bench-dist/bench/bu-bil.js [--src ../shared/data/bu-bil/ds1] [--data DIR] [--reuse-data]
 *        [--spec examples/bu-bil.punet] [--steps N] [--backend wasm] [--samples 1,4,8,16]
 *        [--out RUN_DIR] [--json]
 *
 * The import uses the spec's input size, the default union crop and auto polarity, and
 * `--threshold 128` (BU-BIL has one mask with a stray grey pixel; without it that image is
 * skipped). --reuse-data keeps an existing dataset at --data instead of re-importing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { main as punet } from '../runtime/cli/main.js';
import { parseImportArgs } from '../runtime/cli/commands/import.js';
import { importDataset, type ImportReport } from '../runtime/data/import/run.js';
import { isDatasetDir } from '../runtime/data/store.js';
import { writeJsonAtomic } from '../runtime/run/folder.js';
import type { EvalReport } from '../runtime/sample/evaluate.js';
import { loadSpecOrFail } from '../runtime/run/session.js';
import { stepTimer, type StepTimes } from './step-timer.js';

export interface Phase {
  cpuSeconds: number;
  wallSeconds: number;
}

export interface BuBilResult {
  source: string;
  dataset: string;
  importArgs: string[];
  import?: { report: ImportReport; time: Phase };
  spec: string;
  steps: number;
  backend: string;
  run: string;
  train: Phase & { perStep: StepTimes };
  eval: Phase & { report: EvalReport & { checkpoint: { which: string; step: number } } };
  figures: string[];
  totalCpuSeconds: number;
  totalWallSeconds: number;
  time: string;
}

export interface BuBilOptions {
  src?: string;
  data?: string;
  reuseData?: boolean;
  spec?: string;
  steps?: number;
  backend?: string;
  samples?: string;
  out?: string;
  log?: (line: string) => void;
}

function clock(): () => Phase {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const u = process.cpuUsage(cpu0);
    return { cpuSeconds: (u.user + u.system) / 1e6, wallSeconds: (performance.now() - wall0) / 1000 };
  };
}

/** Runs a punet command in this process; its stdout goes to `onText` as well as to stderr (the log). */
async function runPunet(argv: string[], onText: (text: string) => void = () => {}): Promise<void> {
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    onText(String(chunk));
    return process.stderr.write(chunk, ...(rest as []));
  }) as typeof process.stdout.write;
  let code: number;
  try {
    code = await punet(argv);
  } finally {
    process.stdout.write = original;
  }
  if (code !== 0) throw new Error(`punet ${argv.join(' ')} exited with ${code}`);
}

export async function benchBuBil(o: BuBilOptions = {}): Promise<BuBilResult> {
  const log = o.log ?? (() => {});
  const total = clock();
  const src = resolve(o.src ?? join(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/bu-bil/ds1'));
  const data = resolve(o.data ?? 'bench/results/bu-bil-ds1');
  const specFile = resolve(o.spec ?? 'examples/bu-bil.punet');
  const backend = o.backend ?? 'wasm';
  const samples = o.samples ?? '1,4,8,16';

  // The import must produce the spec's input size.
  const { spec } = await loadSpecOrFail(specFile, (s) => process.stderr.write(s));
  const [height, width] = spec.input.size;
  if (height !== width) throw new Error(`${specFile}: input.size ${height}x${width} is not square; punet import writes square images`);
  const importArgs = [src, '--out', data, '--size', String(height), '--threshold', '128', '--force'];

  let imported: BuBilResult['import'];
  if (o.reuseData && isDatasetDir(data)) {
    log(`reusing the dataset in ${data}`);
  } else {
    log(`punet import ${importArgs.join(' ')}`);
    const parsed = parseImportArgs(importArgs)!;
    const t = clock();
    const { report } = importDataset(parsed.src, parsed.out, parsed.options);
    imported = { report, time: t() };
    log(`imported ${report.itemsWritten} of ${report.imagesFound} images (${report.skipped.count} skipped), ${report.annotators.length} annotators, splits ${JSON.stringify(report.splits)}`);
  }

  const runDir = resolve(o.out ?? join('bench/results', `bu-bil-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const trainArgs = ['compile-and-train', specFile, '--data', data, '--backend', backend, '--out', runDir];
  if (o.steps !== undefined) trainArgs.push('--steps', String(o.steps));
  log(`punet ${trainArgs.join(' ')}`);
  const timer = stepTimer();
  const trainClock = clock();
  await runPunet(trainArgs, (text) => text.split('\n').forEach((line) => timer.observe(line)));
  const trainTime = { ...trainClock(), perStep: timer.result() };

  const evalArgs = ['eval', runDir, '--samples', samples, '--backend', backend];
  log(`punet ${evalArgs.join(' ')}`);
  const evalClock = clock();
  await runPunet(evalArgs);
  const evalTime = evalClock();
  const report = JSON.parse(readFileSync(join(runDir, 'eval.json'), 'utf8'));

  const samplesDir = join(runDir, 'samples');
  const figures = [
    ...readdirSync(samplesDir).filter((f) => /^(sample-grid|eval-grid|latent-grid).*\.png$/.test(f)).map((f) => join(samplesDir, f)),
    ...(existsSync(join(runDir, 'report.html')) ? [join(runDir, 'report.html')] : []),
  ];
  const runSpec = JSON.parse(readFileSync(join(runDir, 'spec.json'), 'utf8'));
  return {
    source: src,
    dataset: data,
    importArgs,
    ...(imported ? { import: imported } : {}),
    spec: specFile,
    steps: runSpec.train.steps,
    backend,
    run: runDir,
    train: trainTime,
    eval: { ...evalTime, report },
    figures,
    ...(({ cpuSeconds, wallSeconds }) => ({ totalCpuSeconds: cpuSeconds, totalWallSeconds: wallSeconds }))(total()),
    time: new Date().toISOString(),
  };
}

export function formatBuBil(r: BuBilResult): string {
  const f = (v: number | null | undefined, d = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'NaN');
  const out: string[] = [];
  if (r.import) {
    const i = r.import.report;
    out.push(
      `import: ${i.imagesFound} images, ${i.annotators.length} annotators, ${i.itemsWritten} items written, ${i.skipped.count} skipped; ` +
        `splits train ${i.splits.train} / val ${i.splits.val} / test ${i.splits.test}; ${f(r.import.time.cpuSeconds, 1)} s CPU, ${f(r.import.time.wallSeconds, 1)} s wall`,
    );
  }
  const e = r.eval.report;
  out.push(`evaluation: ${e.split} split, ${e.images} images, ${e.checkpoint.which} checkpoint (step ${e.checkpoint.step} of ${r.steps}), backend ${r.backend}`);
  const header = ['samples', 'GED', 'Hungarian-matched IoU'];
  const rows = e.sampleCounts.map((n) => [String(n), f(e.results[String(n)]?.ged?.mean), f(e.results[String(n)]?.['hungarian-iou']?.mean)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  const s = r.train.perStep;
  out.push(
    `training: ${r.steps} steps, ${f(r.train.cpuSeconds, 1)} s CPU, ${f(r.train.wallSeconds, 1)} s wall ` +
      `(incl. compile, validation, test sampling, latent grid and report); per step (median): ${f(s.medianCpuMs, 0)} ms CPU, ${f(s.medianWallMs, 0)} ms wall`,
    `eval: ${f(r.eval.cpuSeconds, 1)} s CPU, ${f(r.eval.wallSeconds, 1)} s wall`,
    `whole benchmark: ${f(r.totalCpuSeconds, 1)} s CPU, ${f(r.totalWallSeconds, 1)} s wall`,
    'figures:',
    ...r.figures.map((file) => `  ${file}`),
  );
  return out.join('\n');
}

const HELP = `usage: node bench-dist/bench/bu-bil.js [options]

  --src DIR          BU-BIL dataset 1 (default: shared/data/bu-bil/ds1 beside the repository; read only)
  --data DIR         where the imported dataset goes (default bench/results/bu-bil-ds1)
  --reuse-data       use the dataset already at --data instead of importing again
  --spec FILE        the spec to train (default examples/bu-bil.punet)
  --steps N          override train.steps
  --backend B        wasm (default), cpu, auto, ...
  --samples LIST     sample counts for punet eval (default 1,4,8,16)
  --out RUN_DIR      run folder (default bench/results/bu-bil-<time>)
  --json             print the JSON result instead of the summary
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      src: { type: 'string' },
      data: { type: 'string' },
      'reuse-data': { type: 'boolean' },
      spec: { type: 'string' },
      steps: { type: 'string' },
      backend: { type: 'string' },
      samples: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  let steps: number | undefined;
  if (values.steps !== undefined) {
    steps = Number(values.steps);
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be a positive integer, got '${values.steps}'`);
  }
  const result = await benchBuBil({
    src: values.src,
    data: values.data,
    reuseData: values['reuse-data'],
    spec: values.spec,
    steps,
    backend: values.backend,
    samples: values.samples,
    out: values.out,
    log: (s) => process.stderr.write(s + '\n'),
  });
  const dir = resolve('bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bu-bil-${result.time.replace(/[:.]/g, '-')}.json`);
  writeJsonAtomic(file, result);
  process.stdout.write((values.json ? JSON.stringify(result, null, 2) : formatBuBil(result)) + '\n');
  process.stderr.write(`results written to ${file}\n`);
  tf.disposeVariables();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`bu-bil benchmark failed: ${e.message}\n`);
    process.exit(1);
  });
}
