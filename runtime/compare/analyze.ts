/**
 * Puts runs side by side: per metric and sample count, each variant's mean over seeds with a
 * 95% t interval, and each variant against the first one on the same test images: per-image
 * differences (variant - baseline) pooled over seed-matched run pairs, with a paired bootstrap
 * CI of the mean difference and an exact sign test.
 */
import { BOOTSTRAP_RESAMPLES, bootstrapCi95 } from '../eval/uncertainty.js';
import { mean, signTest, tInterval, type Interval, type SignTest } from './stats.js';
import { variantLabels } from './labels.js';
import type { RunRecord } from './runs.js';

export interface Variant {
  label: string;
  runs: RunRecord[];
}

export interface VariantRow {
  variant: string;
  /** Per-seed means (eval.json), in seed order. */
  seeds: Array<{ seed: number; mean: number | null }>;
  ci: Interval;
}

export interface PairedRow {
  variant: string;
  baseline: string;
  /** Seeds run by both. */
  seeds: number[];
  /** Mean over image pairs of (variant - baseline), with a paired bootstrap CI. */
  diff: Interval;
  sign: SignTest;
}

export interface MetricTable {
  metric: string;
  samples: number;
  rows: VariantRow[];
  paired: PairedRow[];
}

export interface Comparison {
  variants: Array<{ label: string; runs: string[] }>;
  tables: MetricTable[];
  /** Things that limit the comparison (different test sets, missing per-image values...). */
  problems: string[];
}

export function groupVariants(runs: RunRecord[]): Variant[] {
  const byKey = new Map<string, RunRecord[]>();
  for (const r of runs) byKey.set(r.variantKey, [...(byKey.get(r.variantKey) ?? []), r]);
  const used = new Map<string, number>();
  const groups = [...byKey.values()];
  const labels = variantLabels(groups.map((rs) => rs[0]!.spec));
  return groups.map((rs, g) => {
    const base = labels[g]!;
    const k = (used.get(base) ?? 0) + 1;
    used.set(base, k);
    return { label: k === 1 ? base : `${base} (${k})`, runs: [...rs].sort((a, b) => a.seed - b.seed) };
  });
}

/** Seed of the paired bootstrap; exported so tests can redraw it. */
export const PAIRED_BOOTSTRAP_SEED = 1;

export function compareRuns(runs: RunRecord[], o: { resamples?: number } = {}): Comparison {
  const variants = groupVariants(runs);
  const problems: string[] = [];
  const counts = common(runs.map((r) => r.eval.sampleCounts.map(String))).map(Number).sort((a, b) => a - b);
  const tables: MetricTable[] = [];
  const [baseline, ...others] = variants;
  const pairing = new Map<Variant, { pairs: Array<[RunRecord, RunRecord]>; seeds: number[] }>();
  for (const v of others) pairing.set(v, pairRuns(baseline!, v, problems));

  for (const n of counts) {
    const metrics = common(runs.map((r) => Object.keys(r.eval.results[String(n)] ?? {})));
    for (const metric of metrics) {
      const rows = variants.map((v) => {
        const seeds = v.runs.map((r) => ({ seed: r.seed, mean: r.eval.results[String(n)]![metric]!.mean }));
        return { variant: v.label, seeds, ci: tInterval(seeds.flatMap((s) => (s.mean === null ? [] : [s.mean]))) };
      });
      const paired: PairedRow[] = [];
      for (const v of others) {
        const { pairs, seeds } = pairing.get(v)!;
        const diffs: number[] = [];
        for (const [a, b] of pairs) {
          const va = a.perImage!.values[String(n)]?.[metric];
          const vb = b.perImage!.values[String(n)]?.[metric];
          if (!va || !vb) continue;
          va.forEach((x, i) => {
            const y = vb[i];
            if (x !== null && y !== null && y !== undefined) diffs.push(y - x);
          });
        }
        if (!diffs.length) continue;
        paired.push({ variant: v.label, baseline: baseline!.label, seeds, diff: pairedInterval(diffs, o.resamples), sign: signTest(diffs) });
      }
      tables.push({ metric, samples: n, rows, paired });
    }
  }
  if (!counts.length) problems.push('the runs share no sample count in eval.json: nothing to compare');
  return { variants: variants.map((v) => ({ label: v.label, runs: v.runs.map((r) => r.dir) })), tables, problems };
}

/** Mean paired difference with the evaluation's percentile-bootstrap 95% interval (fixed seed: reproducible). */
function pairedInterval(diffs: number[], resamples = BOOTSTRAP_RESAMPLES): Interval {
  const [lo, hi] = bootstrapCi95(diffs, PAIRED_BOOTSTRAP_SEED, resamples);
  return { mean: mean(diffs), lo, hi, n: diffs.length };
}

/** Baseline and variant runs with the same seed and the same test images. */
function pairRuns(baseline: Variant, v: Variant, problems: string[]): { pairs: Array<[RunRecord, RunRecord]>; seeds: number[] } {
  const pairs: Array<[RunRecord, RunRecord]> = [];
  for (const b of v.runs) {
    const a = baseline.runs.find((r) => r.seed === b.seed);
    if (!a) continue;
    const why = differentTestSets(a, b);
    if (why) problems.push(`${v.label} vs ${baseline.label}, seed ${b.seed}: evaluated on different test sets (${why}); no paired differences for this pair`);
    else if (!a.perImage || !b.perImage) problems.push(`${v.label} vs ${baseline.label}, seed ${b.seed}: no per-image values`);
    else pairs.push([a, b]);
  }
  if (!pairs.length && !problems.some((p) => p.startsWith(`${v.label} vs`))) {
    problems.push(`${v.label} vs ${baseline.label}: no run pair with the same seed and test set, so no paired differences (run both with the same seeds)`);
  }
  return { pairs, seeds: pairs.map(([, b]) => b.seed) };
}

function differentTestSets(a: RunRecord, b: RunRecord): string | undefined {
  if (a.eval.split !== b.eval.split) return `splits ${a.eval.split} and ${b.eval.split}`;
  if (a.dataKey !== b.dataKey) return 'different data settings in their specs';
  const ia = a.perImage?.imageIds;
  const ib = b.perImage?.imageIds;
  if (ia && ib && (ia.length !== ib.length || ia.some((id, i) => id !== ib[i]))) return `${ia.length} and ${ib.length} images with different ids`;
  return undefined;
}

function common(lists: string[][]): string[] {
  const [first = [], ...rest] = lists;
  return first.filter((x) => rest.every((l) => l.includes(x)));
}
