/**
 * Robustness across seeds (issue 15): trains examples/prob-unet-tiny.punet with several seeds,
 * under today's recipe and under the previous one (the same spec back at ReLU encoders, lr 1e-2
 * without warm-up, no free bits and checkpoint selection by validation GED), through the installed `compile-and-train`
 * command, and tabulates per run the test split's sample diversity, GED and mode TV at 16
 * samples, then the mean over seeds with a 95% t-interval. A run whose diversity is under
 * 0.2 counts as collapsed.
 *
 *   node bench-dist/bench/seeds.js [--seeds 42,1,2,3,4] [--steps N] [--parallel 2] [--out DIR] [--json]
 *
 * Runs land in OUT/<recipe>-s<seed>; a run folder that already holds eval.json is read, not
 * retrained, so an interrupted benchmark continues where it stopped.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const CLI = join(root, 'dist', 'runtime', 'cli', 'bin', 'compile-and-train.js');
const SPEC = join(root, 'examples', 'prob-unet-tiny.punet');
const SAMPLES = '16';
/** Test-split sample diversity below this: near-deterministic samples (the issue's criterion). */
export const COLLAPSED_DIVERSITY = 0.2;

/** The previous recipe: today's tiny spec with every robustness option back at its old value. */
export function previousRecipe(spec: string): string {
  return [
    '# prob-unet-tiny before issue 15: ReLU encoders, lr 1e-2 without warm-up, no free bits, best checkpoint by validation GED.',
    `extends ${JSON.stringify(spec)}`,
    'model "prob-unet-tiny-previous" {',
    '  prior { activation: relu }',
    '  posterior { activation: relu }',
    '  loss { kl analytic { free_bits: 0 }  objective weighted { warmup_steps: 0 } }',
    '  train {',
    '    optimizer { lr: 1e-2 }',
    '    schedule piecewise { values: [1e-2, 1e-3]  warmup_steps: 0 }',
    '    select_by: ged',
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface SeedRun {
  recipe: string;
  seed: number;
  diversity: number;
  ged: number;
  modeTv: number;
  hungarianIoU: number;
  /** Which checkpoint was evaluated. */
  checkpoint: string;
  collapsed: boolean;
  wallSeconds?: number;
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093,
  2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean with a 95% t-interval (the seeds are the sample); NaN bounds for a single value. */
export function meanCI95(values: number[]): Interval {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lo: NaN, hi: NaN, n };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (T975[Math.min(n - 1, T975.length) - 1] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lo: mean - half, hi: mean + half, n };
}

/** Reads one finished run folder. */
export function readRun(dir: string, recipe: string, seed: number): SeedRun {
  const evalJson = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as {
    checkpoint?: { which: string; step: number };
    results: Record<string, Record<string, { mean: number }>>;
  };
  const at = evalJson.results[SAMPLES];
  if (!at) throw new Error(`${dir}/eval.json has no results at ${SAMPLES} samples`);
  const metric = (id: string) => at[id]?.mean ?? NaN;
  const diversity = metric('diversity');
  return {
    recipe,
    seed,
    diversity,
    ged: metric('ged'),
    modeTv: metric('mode-tv'),
    hungarianIoU: metric('hungarian-iou'),
    checkpoint: evalJson.checkpoint ? `${evalJson.checkpoint.which} ${evalJson.checkpoint.step}` : '?',
    collapsed: !(diversity >= COLLAPSED_DIVERSITY),
  };
}

function trainOnce(spec: string, dir: string, seed: number, steps: string | undefined): Promise<number> {
  const args = [CLI, spec, '--seed', String(seed), '--out', dir, ...(steps ? ['--steps', steps] : [])];
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', fail);
    child.on('exit', (code) => {
      writeFileSync(`${dir}.log`, log);
      if (code === 0) done((performance.now() - started) / 1000);
      else fail(new Error(`compile-and-train ${spec} --seed ${seed} failed (exit ${code}); log: ${dir}.log`));
    });
  });
}

/** Runs `jobs` with at most `parallel` at a time. */
async function pool<T>(jobs: Array<() => Promise<T>>, parallel: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, worker));
  return results;
}

const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '-');
const ci = (i: Interval) => `${f3(i.mean)} [${f3(i.lo)}, ${f3(i.hi)}]`;

export function formatTable(runs: SeedRun[], recipes: string[]): string {
  const lines = ['recipe    seed  diversity  GED(16)  mode TV  HM-IoU  checkpoint  collapsed'];
  for (const r of runs) {
    lines.push(
      `${r.recipe.padEnd(9)} ${String(r.seed).padStart(5)}  ${f3(r.diversity).padStart(9)}  ${f3(r.ged).padStart(7)}  ${f3(r.modeTv).padStart(7)}  ${f3(r.hungarianIoU).padStart(6)}  ${r.checkpoint.padEnd(10)}  ${r.collapsed ? 'yes' : 'no'}`,
    );
  }
  lines.push('', 'mean over seeds [95% t-interval]:');
  for (const recipe of recipes) {
    const mine = runs.filter((r) => r.recipe === recipe);
    const of = (k: 'diversity' | 'ged' | 'modeTv') => ci(meanCI95(mine.map((r) => r[k])));
    lines.push(
      `${recipe.padEnd(9)} diversity ${of('diversity')}  GED(16) ${of('ged')}  mode TV ${of('modeTv')}  collapsed ${mine.filter((r) => r.collapsed).length}/${mine.length}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '42,1,2,3,4' },
      steps: { type: 'string' },
      parallel: { type: 'string', default: '2' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const seeds = values.seeds!.split(',').map((s) => Number.parseInt(s, 10));
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds: expected non-negative integers, got '${values.seeds}'`);
  const out = resolve(values.out ?? join(root, 'bench', 'results', `seeds-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  mkdirSync(out, { recursive: true });
  const previousSpec = join(out, 'prob-unet-tiny-previous.punet');
  writeFileSync(previousSpec, previousRecipe(SPEC));
  const recipes = [
    { name: 'previous', spec: previousSpec },
    { name: 'new', spec: SPEC },
  ];
  const jobs = recipes.flatMap((recipe) =>
    seeds.map((seed) => async () => {
      const dir = join(out, `${recipe.name}-s${seed}`);
      const wall = existsSync(join(dir, 'eval.json')) ? undefined : await trainOnce(recipe.spec, dir, seed, values.steps);
      const run = { ...readRun(dir, recipe.name, seed), wallSeconds: wall };
      process.stderr.write(`${recipe.name} seed ${seed}: GED ${f3(run.ged)}, diversity ${f3(run.diversity)}${wall ? ` (${wall.toFixed(0)} s wall)` : ' (read)'}\n`);
      return run;
    }),
  );
  const runs = await pool(jobs, Number.parseInt(values.parallel!, 10));
  const names = recipes.map((r) => r.name);
  const summary = Object.fromEntries(
    names.map((name) => {
      const mine = runs.filter((r) => r.recipe === name);
      return [name, { diversity: meanCI95(mine.map((r) => r.diversity)), ged: meanCI95(mine.map((r) => r.ged)), modeTv: meanCI95(mine.map((r) => r.modeTv)), collapsed: mine.filter((r) => r.collapsed).length }];
    }),
  );
  writeFileSync(join(out, 'seeds.json'), JSON.stringify({ seeds, steps: values.steps ?? 'spec', samples: Number(SAMPLES), runs, summary }, null, 2) + '\n');
  process.stdout.write(values.json ? JSON.stringify({ runs, summary }, null, 2) + '\n' : `${formatTable(runs, names)}\n\nresults: ${join(out, 'seeds.json')}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: Error) => {
    process.stderr.write(`seeds: ${err.message}\n`);
    process.exit(1);
  });
}
