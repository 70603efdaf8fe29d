/**
 * Evaluation: prior samples for every image of a split, scored with the metric and distance
 * contributions the spec's `eval` names (so a plugin's metric is evaluated like a built-in one).
 * Samples are drawn once, in whole blocks (sampler.ts), for the largest count; every count n
 * scores the first n of them, so GED at 4 samples is the same whichever counts are asked for.
 * Every metric keeps its per-image values, their spread and a bootstrap CI (eval/uncertainty.ts).
 */
import type { Mask, MetricContribution, ProbabilisticSegmenter } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import type { Dataset, SplitName } from '../data/types.js';
import { metricKindSpec, type KindSpec, type ResolvedSpec } from '../../spec/types.js';
import { resolve } from '../train/contributions.js';
import { hash32, STREAM } from '../train/rng.js';
import { bootstrapIndices, formatWithCi, metricStats, type MetricStats } from '../eval/uncertainty.js';
import { SAMPLE_BLOCK, sampleItems, type ImageSamples } from './sampler.js';

export interface MetricSetup {
  metrics: Array<{ id: string; contribution: MetricContribution; options: Record<string, unknown> }>;
  distance: (a: Mask, b: Mask) => number;
  classes: number;
}

/**
 * The spec's metrics (or the metrics `ids`, with the options the spec gives them, if any) and its
 * distance, resolved and validated.
 */
export function setupMetrics(spec: ResolvedSpec, registry: Registry, ids?: string[]): MetricSetup {
  const distanceSpec: KindSpec = spec.eval.distance;
  const { contribution: distance, options: distanceOptions } = resolve(registry, 'distances', distanceSpec, 'eval.distance', spec);
  const classes = spec.input.classes;
  // Masks are flat; a distance that looks at shape (boundaries, neighbourhoods) needs height and width.
  const [height, width] = spec.input.size;
  const distanceCtx = { options: distanceOptions, classes, height, width };
  const written = spec.eval.metrics.map(metricKindSpec);
  const entries = ids ? ids.map((id) => written.find((m) => m.kind === id) ?? { kind: id }) : written;
  return {
    metrics: entries.map((entry) => {
      const at = written.indexOf(entry);
      const r = resolve(registry, 'metrics', entry, at >= 0 ? `eval.metrics.${at}` : `metric '${entry.kind}'`, spec);
      return { id: entry.kind, contribution: r.contribution, options: r.options };
    }),
    distance: (a, b) => distance.distance(a, b, distanceCtx),
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

/** One metric at one sample count: see eval/uncertainty.ts. */
export type MetricSummary = MetricStats;

export interface EvalReport {
  split: SplitName;
  images: number;
  /** Item ids in the order of every `perImage` list. */
  imageIds: string[];
  sampleCounts: number[];
  /** Samples drawn per image (whole blocks; counts use prefixes of them). */
  samplesDrawn: number;
  /** results[String(n)][metricId] */
  results: Record<string, Record<string, MetricSummary>>;
  /** Metrics not computed, with the reason. */
  skipped: Array<{ metric: string; reason: string }>;
  /** Deterministic baselines scored on the same images, e.g. "prior-mean" (results for n = 1). */
  baseline?: Record<string, { results: Record<string, Record<string, MetricSummary>> }>;
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

  // The prior-mean baseline is deterministic: no need for whole blocks.
  const deterministic = opts.perScale !== undefined && opts.perScale.every((p) => p === 'mean');
  const drawn = deterministic ? maxN : Math.ceil(maxN / SAMPLE_BLOCK) * SAMPLE_BLOCK;
  const samples = await sampleItems(segmenter, dataset, items, drawn, {
    seed: opts.seed,
    stream: opts.stream ?? STREAM.evaluation,
    batchSize: opts.batchSize,
    perScale: opts.perScale,
    onChunk: (done) => opts.onProgress?.(done, items.length),
  });
  opts.onSamples?.(items, samples);

  // One resampling table for every metric and count: the CIs are over the same image draws.
  const indices = bootstrapIndices(items.length, hash32(opts.seed, STREAM.evaluation, 0xb007));
  const results: EvalReport['results'] = {};
  for (const n of counts) {
    const perImage = new Map<string, number[]>();
    items.forEach((index, k) => {
      const item = dataset.items[index]!;
      const first: ImageSamples = { masks: samples[k]!.masks.slice(0, n), foreground: samples[k]!.foreground.slice(0, n) };
      const scores = scoreImage(setup, first, item.annotations, hasModes ? item.modes : undefined);
      for (const [id, value] of Object.entries(scores)) {
        if (!perImage.has(id)) perImage.set(id, new Array<number>(items.length).fill(NaN));
        perImage.get(id)![k] = value;
      }
    });
    results[String(n)] = Object.fromEntries([...perImage].map(([id, values]) => [id, metricStats(values, indices)]));
  }
  return {
    split: opts.split,
    images: items.length,
    imageIds: items.map((i) => dataset.items[i]!.id),
    sampleCounts: counts,
    samplesDrawn: drawn,
    results,
    skipped,
  };
}

/** The terminal table: one row per sample count (and baseline), one column per metric: mean [95% CI]. */
export function formatEvalTable(report: EvalReport): string {
  const ids = [...new Set(Object.values(report.results).flatMap((r) => Object.keys(r)))];
  const header = ['samples', ...ids];
  const cells = (label: string, row: Record<string, MetricSummary> | undefined) => [
    label,
    ...ids.map((id) => {
      const s = row?.[id];
      // Undefined on every image (e.g. diversity of one sample): nothing to report.
      if (!s || s.images === 0) return '-';
      const v = formatWithCi(s);
      return s.nan ? `${v} (${s.nan} NaN)` : v;
    }),
  ];
  const rows = report.sampleCounts.map((n) => cells(String(n), report.results[String(n)]));
  for (const [name, b] of Object.entries(report.baseline ?? {})) {
    for (const [n, row] of Object.entries(b.results)) rows.push(cells(`${name} (${n})`, row));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i]!)).join('  ');
  const out = [
    `${report.split} split, ${report.images} images; mean [95% bootstrap CI over images]`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  if (report.baseline?.['prior-mean']) out.push('(prior-mean: one deterministic prediction from the prior mean; the sampled model should beat it)');
  for (const s of report.skipped) out.push(`(${s.metric} skipped: ${s.reason})`);
  return out.join('\n');
}
