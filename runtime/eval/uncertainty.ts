/**
 * Spread and uncertainty of a per-image metric: mean, sample standard deviation and a 95%
 * percentile-bootstrap confidence interval of the mean over images. The bootstrap draws image
 * indices from a counter-based hash of (seed, replicate, draw), so a report is reproducible and
 * every metric of one evaluation is resampled with the same images (paired comparisons).
 */
import { randomInt } from '../train/rng.js';

export const BOOTSTRAP_RESAMPLES = 2000;

export interface MetricStats {
  /** Mean over images with a finite value (NaN when there are none). */
  mean: number;
  /** Images that contributed. */
  images: number;
  /** Images whose value was NaN (left out of every statistic). */
  nan: number;
  /** Sample standard deviation (n - 1) over the contributing images; NaN below two. */
  std: number;
  /** 95% percentile-bootstrap interval of the mean; [NaN, NaN] when no image contributed. */
  ci95: [number, number];
  /** One value per image in the evaluation's image order (null where NaN). */
  perImage: Array<number | null>;
}

/** Replicate r draws images indices[r*n .. r*n+n-1]: one table shared by all metrics. */
export function bootstrapIndices(n: number, seed: number, resamples = BOOTSTRAP_RESAMPLES): Int32Array {
  const out = new Int32Array(n * resamples);
  for (let r = 0; r < resamples; r++) for (let i = 0; i < n; i++) out[r * n + i] = randomInt(n, seed, r, i);
  return out;
}

/** Linear-interpolation quantile (numpy's default) of ascending `sorted`. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Statistics of `values` (one per image, NaN = undefined for that image). `indices` comes from
 * `bootstrapIndices(values.length, ...)`; a replicate's mean is over its finite draws.
 */
export function metricStats(values: readonly number[], indices: Int32Array): MetricStats {
  const n = values.length;
  const finite = values.filter((v) => Number.isFinite(v));
  const images = finite.length;
  const mean = images ? finite.reduce((a, b) => a + b, 0) / images : NaN;
  const std = images > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (images - 1)) : NaN;
  return {
    mean,
    images,
    nan: n - images,
    std,
    ci95: percentileCi95(values, n ? indices.length / n : 0, (r, i) => indices[r * n + i]!),
    perImage: values.map((v) => (Number.isFinite(v) ? v : null)),
  };
}

/**
 * The same 95% interval as metricStats with `bootstrapIndices(values.length, seed, resamples)`,
 * drawing the indices as it goes instead of from a table (memory O(resamples), not
 * O(values x resamples)): for one-off intervals over many values, e.g. the per-image differences
 * `punet compare` pools over seeds.
 */
export function bootstrapCi95(values: readonly number[], seed: number, resamples = BOOTSTRAP_RESAMPLES): [number, number] {
  return percentileCi95(values, values.length ? resamples : 0, (r, i) => randomInt(values.length, seed, r, i));
}

/** 2.5/97.5 % quantiles of the replicate means; replicate r's i-th draw is values[pick(r, i)]. */
function percentileCi95(values: readonly number[], resamples: number, pick: (r: number, i: number) => number): [number, number] {
  const n = values.length;
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = values[pick(r, i)]!;
      if (Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }
    if (count) means.push(sum / count);
  }
  means.sort((a, b) => a - b);
  return [quantile(means, 0.025), quantile(means, 0.975)];
}

/** "0.2412 ± [0.2210, 0.2630]"-style text for tables: mean and the CI bounds. */
export function formatWithCi(s: Pick<MetricStats, 'mean' | 'ci95'>, digits = 4): string {
  if (!Number.isFinite(s.mean)) return 'NaN';
  const [lo, hi] = s.ci95;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return s.mean.toFixed(digits);
  return `${s.mean.toFixed(digits)} [${lo.toFixed(digits)}, ${hi.toFixed(digits)}]`;
}
