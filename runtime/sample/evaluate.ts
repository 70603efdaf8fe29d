/**
 * Evaluation: prior samples for every image of a split, scored with the metric and distance
 * contributions the spec's `eval` names (so a plugin's metric is evaluated like a built-in one).
 * The largest sample count is drawn once; smaller counts use its first n samples.
 */
import type { Mask, MetricContribution, ProbabilisticSegmenter } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import type { Dataset, SplitName } from '../data/types.js';
import type { KindSpec, ResolvedSpec } from '../../spec/types.js';
import { resolve } from '../train/contributions.js';
import { STREAM } from '../train/rng.js';
import { sampleItems, type ImageSamples } from './sampler.js';

export interface MetricSetup {
  metrics: Array<{ id: string; contribution: MetricContribution; options: Record<string, unknown> }>;
  distance: (a: Mask, b: Mask) => number;
  classes: number;
}

export function setupMetrics(spec: ResolvedSpec, registry: Registry, ids: string[] = spec.eval.metrics): MetricSetup {
  const distanceSpec: KindSpec = spec.eval.distance;
  const { contribution: distance, options: distanceOptions } = resolve(registry, 'distances', distanceSpec, 'eval.distance');
  const classes = spec.input.classes;
  return {
    metrics: ids.map((id, i) => {
      const r = resolve(registry, 'metrics', { kind: id }, `eval.metrics.${i}`);
      return { id, contribution: r.contribution, options: r.options };
    }),
    distance: (a, b) => distance.distance(a, b, { options: distanceOptions, classes }),
    classes,
  };
}

/** Per-metric scores of one image; metrics needing modes are left out when there are none. */
export function scoreImage(
  setup: MetricSetup,
  samples: ImageSamples,
  annotations: Mask[],
  modes?: Array<{ mask: Mask; probability: number }>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of setup.metrics) {
    if (m.contribution.needsModes && !modes) continue;
    out[m.id] = m.contribution.compute({
      options: m.options,
      samples: samples.masks,
      annotations,
      classes: setup.classes,
      distance: setup.distance,
      probabilities: samples.foreground,
      modes,
    });
  }
  return out;
}

export interface MetricSummary {
  /** Mean over images with a finite value. */
  mean: number;
  /** Images that contributed. */
  images: number;
  /** Images whose value was NaN (skipped in the mean). */
  nan: number;
}

export interface EvalReport {
  split: SplitName;
  images: number;
  sampleCounts: number[];
  /** results[String(n)][metricId] */
  results: Record<string, Record<string, MetricSummary>>;
  /** Metrics not computed, with the reason. */
  skipped: Array<{ metric: string; reason: string }>;
}

export interface EvaluateOptions {
  split: SplitName;
  sampleCounts: number[];
  seed: number;
  batchSize: number;
  metricIds?: string[];
  /** Noise stream (runtime/train/rng.ts): validation and evaluation draw independent noise. */
  stream?: number;
  /** Per latent scale, sample or take the prior mean: all 'mean' gives the deterministic baseline. */
  perScale?: Array<'sample' | 'mean'>;
  onProgress?: (done: number, total: number) => void;
  /** Called once with the drawn samples (e.g. to draw a figure of what was scored). */
  onSamples?: (items: number[], samples: ImageSamples[]) => void;
}

export async function evaluateSplit(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  registry: Registry,
  opts: EvaluateOptions,
): Promise<EvalReport> {
  const setup = setupMetrics(spec, registry, opts.metricIds);
  const items = dataset.splits[opts.split];
  const counts = [...new Set(opts.sampleCounts)].sort((a, b) => a - b);
  const maxN = counts[counts.length - 1]!;
  const hasModes = items.length > 0 && items.every((i) => dataset.items[i]!.modes?.length);
  const skipped = hasModes
    ? []
    : setup.metrics.filter((m) => m.contribution.needsModes).map((m) => ({ metric: m.id, reason: 'the data has no known mode distribution (built-in data only)' }));

  const samples = await sampleItems(segmenter, dataset, items, maxN, {
    seed: opts.seed,
    stream: opts.stream ?? STREAM.evaluation,
    batchSize: opts.batchSize,
    perScale: opts.perScale,
    onChunk: (done) => opts.onProgress?.(done, items.length),
  });
  opts.onSamples?.(items, samples);

  const results: EvalReport['results'] = {};
  for (const n of counts) {
    const sums = new Map<string, MetricSummary>();
    items.forEach((index, k) => {
      const item = dataset.items[index]!;
      const first: ImageSamples = { masks: samples[k]!.masks.slice(0, n), foreground: samples[k]!.foreground.slice(0, n) };
      const scores = scoreImage(setup, first, item.annotations, hasModes ? item.modes : undefined);
      for (const [id, value] of Object.entries(scores)) {
        const s = sums.get(id) ?? { mean: 0, images: 0, nan: 0 };
        if (Number.isNaN(value)) s.nan++;
        else {
          s.mean += value;
          s.images++;
        }
        sums.set(id, s);
      }
    });
    results[String(n)] = Object.fromEntries(
      [...sums].map(([id, s]) => [id, { mean: s.images ? s.mean / s.images : NaN, images: s.images, nan: s.nan }]),
    );
  }
  return { split: opts.split, images: items.length, sampleCounts: counts, results, skipped };
}

/** The terminal table: one row per sample count, one column per metric. */
export function formatEvalTable(report: EvalReport): string {
  const ids = [...new Set(Object.values(report.results).flatMap((r) => Object.keys(r)))];
  const header = ['samples', ...ids];
  const rows = report.sampleCounts.map((n) => [
    String(n),
    ...ids.map((id) => {
      const s = report.results[String(n)]?.[id];
      // Undefined on every image (e.g. diversity of one sample): nothing to report.
      if (!s || s.images === 0) return '-';
      const v = Number.isNaN(s.mean) ? 'NaN' : s.mean.toFixed(4);
      return s.nan ? `${v} (${s.nan} NaN)` : v;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  const out = [
    `${report.split} split, ${report.images} images`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  for (const s of report.skipped) out.push(`(${s.metric} skipped: ${s.reason})`);
  return out.join('\n');
}
