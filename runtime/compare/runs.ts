/**
 * What `punet compare` reads from each run: its spec and seed, the variant it belongs to, its
 * eval.json (means and, when present, per-image values with image ids), and its curves.
 *
 * Per-image values: eval.json's `results[n][metric].perImage` with top-level `imageIds` when the
 * run has them. Runs evaluated before those fields existed get them recomputed from the same
 * checkpoint with the same evaluation code, seed and noise stream as the training-time
 * evaluation (so the means match eval.json), cached in RUN/compare/per-image.json.
 */
import type { OpenRunOptions } from '../run/session.js';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../cli/errors.js';
import { MetricsLog, readJson, runPath, writeJsonAtomic } from '../run/folder.js';
import type { ResolvedSpec } from '../../spec/types.js';
import type { SplitName } from '../data/types.js';
import { finishedRunDirs, isSweepDir } from '../sweep/manifest.js';

export type PerImage = Record<string, Record<string, Array<number | null>>>;

export interface EvalJson {
  split: string;
  images: number;
  sampleCounts: number[];
  results: Record<string, Record<string, { mean: number | null; images: number; nan: number; perImage?: Array<number | null> }>>;
  imageIds?: string[];
  checkpoint?: { which: string; step: number };
}

export interface RunRecord {
  dir: string;
  /** Runs with the same spec apart from the seed form a variant. */
  variantKey: string;
  seed: number;
  spec: ResolvedSpec;
  /** The data the run was evaluated on, as a comparable string (spec's data + seed). */
  dataKey: string;
  eval: EvalJson;
  perImage?: { imageIds: string[]; values: PerImage; source: 'eval.json' | 'recomputed' };
  validation: Array<[number, number]>;
  loss: Array<[number, number]>;
}

/** Run folders named on the command line; a sweep folder stands for its finished runs. */
export function expandRunArgs(args: string[]): string[] {
  const dirs: string[] = [];
  for (const arg of args) {
    const dir = resolve(arg);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`compare: ${arg} is not a folder; give run folders or sweep folders`, 2);
    if (isSweepDir(dir)) {
      const runs = finishedRunDirs(dir);
      if (!runs.length) throw new UserError(`compare: the sweep ${arg} has no evaluated run yet (see 'punet sweep status ${arg}')`);
      dirs.push(...runs);
    } else if (existsSync(runPath(dir, 'eval'))) dirs.push(dir);
    else if (existsSync(runPath(dir, 'spec'))) throw new UserError(`compare: ${arg} has no eval.json yet: the run has not finished (resume it, or run 'punet eval ${arg}')`);
    else throw new UserError(`compare: ${arg} is neither a run folder nor a sweep folder`, 2);
  }
  return [...new Set(dirs)];
}

export function readRun(dir: string): RunRecord {
  const spec = readJson<ResolvedSpec>(runPath(dir, 'spec'));
  const evalJson = readJson<EvalJson>(runPath(dir, 'eval'));
  const { seed, ...train } = spec.train;
  const { sweep: _sweep, ...rest } = spec;
  const variantKey = JSON.stringify({ ...rest, train });
  const validation: Array<[number, number]> = [];
  const loss: Array<[number, number]> = [];
  for (const r of new MetricsLog(runPath(dir, 'metrics')).read()) {
    if (typeof r.step !== 'number') continue;
    if (r.event === 'validation' && typeof r.ged === 'number') validation.push([r.step, r.ged]);
    else if (r.event === undefined && typeof r.loss === 'number') loss.push([r.step, r.loss]);
  }
  const fromEval = perImageFromEval(evalJson);
  const cached = fromEval ? undefined : readCache(dir, evalJson);
  return {
    dir,
    variantKey,
    seed,
    spec,
    dataKey: JSON.stringify({ data: spec.train.data, seed, input: spec.input, split: evalJson.split }),
    eval: evalJson,
    ...(fromEval ? { perImage: { ...fromEval, source: 'eval.json' as const } } : cached ? { perImage: { ...cached, source: 'recomputed' as const } } : {}),
    validation,
    loss,
  };
}

function perImageFromEval(e: EvalJson): { imageIds: string[]; values: PerImage } | undefined {
  if (!Array.isArray(e.imageIds)) return undefined;
  const values: PerImage = {};
  for (const [n, metrics] of Object.entries(e.results)) {
    for (const [id, r] of Object.entries(metrics)) {
      if (!Array.isArray(r.perImage)) return undefined;
      (values[n] ??= {})[id] = r.perImage;
    }
  }
  return { imageIds: e.imageIds, values };
}

const cachePath = (dir: string) => join(dir, 'compare', 'per-image.json');

interface Cache {
  checkpoint?: { which: string; step: number };
  imageIds: string[];
  values: PerImage;
}

function readCache(dir: string, e: EvalJson): Cache | undefined {
  if (!existsSync(cachePath(dir))) return undefined;
  try {
    const c = readJson<Cache>(cachePath(dir));
    return JSON.stringify(c.checkpoint) === JSON.stringify(e.checkpoint) ? c : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Recomputes per-image values of a run whose eval.json has none: the evaluated checkpoint, the
 * spec's seed and the evaluation noise stream, as runtime/sample/evaluate.ts draws them.
 */
export async function recomputePerImage(run: RunRecord, note: (s: string) => void, plugins: OpenRunOptions = {}): Promise<RunRecord> {
  if (run.perImage) return run;
  const [{ openRun, loadData, useBackend, specDirOf }, { evaluateSplit }] = await Promise.all([import('../run/session.js'), import('../sample/evaluate.js')]);
  await useBackend(run.spec.train.backend, 'train.backend in the run', () => undefined);
  const which = run.eval.checkpoint?.which === 'last' ? 'last' : 'best';
  note(`${basename(run.dir)}: eval.json has no per-image values; recomputing them from its ${which} checkpoint\n`);
  const opened = await openRun(run.dir, which, (s) => note(`warning: ${s}\n`), plugins);
  try {
    const dataset = await loadData(opened.spec, opened.registry, specDirOf(opened.info, run.dir));
    // The evaluation itself (same seed, noise stream and sample prefixes), not a copy of it.
    const report = await evaluateSplit(opened.compiled.segmenter, dataset, opened.spec, opened.registry, {
      split: run.eval.split as SplitName,
      sampleCounts: run.eval.sampleCounts,
      seed: opened.spec.train.seed,
      batchSize: opened.spec.train.batch_size,
      metricIds: Object.keys(Object.values(run.eval.results)[0] ?? {}),
    });
    const values: PerImage = Object.fromEntries(
      Object.entries(report.results).map(([n, metrics]) => [n, Object.fromEntries(Object.entries(metrics).map(([id, m]) => [id, m.perImage]))]),
    );
    checkAgainstEval(run, values, note);
    const cache: Cache = { ...(run.eval.checkpoint ? { checkpoint: run.eval.checkpoint } : {}), imageIds: report.imageIds, values };
    mkdirSync(dirname(cachePath(run.dir)), { recursive: true });
    writeJsonAtomic(cachePath(run.dir), cache);
    return { ...run, perImage: { imageIds: cache.imageIds, values, source: 'recomputed' } };
  } finally {
    opened.compiled.dispose();
  }
}

/** Recomputed values must reproduce eval.json's means; a mismatch (another backend, changed code) is reported. */
function checkAgainstEval(run: RunRecord, values: PerImage, note: (s: string) => void): void {
  for (const [n, metrics] of Object.entries(values)) {
    for (const [id, xs] of Object.entries(metrics)) {
      const finite = xs.filter((x): x is number => x !== null);
      const expected = run.eval.results[n]?.[id]?.mean;
      if (expected === null || expected === undefined || !finite.length) continue;
      const got = finite.reduce((a, b) => a + b, 0) / finite.length;
      if (Math.abs(got - expected) > 1e-6 * Math.max(1, Math.abs(expected))) {
        note(`warning: ${basename(run.dir)}: recomputed ${id} (${n} samples) averages ${got.toFixed(6)}, eval.json says ${expected.toFixed(6)}; the paired statistics use the recomputed values\n`);
      }
    }
  }
}
