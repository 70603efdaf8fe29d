/**
 * Spread and uncertainty of per-image metrics, checked against independent computations:
 * two-pass std, a bootstrap written out here from the same index rule, the normal
 * approximation of the CI for a large sample, and numpy's default quantile on known values.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapIndices, metricStats, quantile, BOOTSTRAP_RESAMPLES } from '../../runtime/eval/uncertainty.js';
import { randomInt } from '../../runtime/train/rng.js';

describe('metric statistics over images', () => {
  it('mean and sample std skip NaN; perImage keeps the image order with null for NaN', () => {
    const values = [0.2, NaN, 0.5, 0.9, 0.4];
    const s = metricStats(values, bootstrapIndices(values.length, 7));
    const finite = [0.2, 0.5, 0.9, 0.4];
    const mean = (0.2 + 0.5 + 0.9 + 0.4) / 4;
    let ss = 0;
    for (const v of finite) ss += (v - mean) * (v - mean);
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(ss / 3), 12);
    expect([s.images, s.nan]).toEqual([4, 1]);
    expect(s.perImage).toEqual([0.2, null, 0.5, 0.9, 0.4]);
    expect(s.ci95[0]).toBeLessThanOrEqual(mean);
    expect(s.ci95[1]).toBeGreaterThanOrEqual(mean);
  });

  it('the CI is the 2.5/97.5 % quantile of bootstrap means, recomputed here from scratch', () => {
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const seed = 12345;
    const s = metricStats(values, bootstrapIndices(values.length, seed));
    const means: number[] = [];
    for (let r = 0; r < BOOTSTRAP_RESAMPLES; r++) {
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += values[randomInt(values.length, seed, r, i)]!;
      means.push(sum / values.length);
    }
    means.sort((a, b) => a - b);
    const q = (p: number) => {
      const pos = (means.length - 1) * p;
      const lo = Math.floor(pos);
      return means[lo]! + (means[Math.min(lo + 1, means.length - 1)]! - means[lo]!) * (pos - lo);
    };
    expect(s.ci95[0]).toBeCloseTo(q(0.025), 12);
    expect(s.ci95[1]).toBeCloseTo(q(0.975), 12);
    // Same seed, same interval; another seed, another (but close) interval.
    expect(metricStats(values, bootstrapIndices(values.length, seed)).ci95).toEqual(s.ci95);
    expect(metricStats(values, bootstrapIndices(values.length, seed + 1)).ci95).not.toEqual(s.ci95);
  });

  it('for 400 images the CI matches mean +- 1.96 std / sqrt(n) within a few percent', () => {
    const n = 400;
    // A deterministic, skew-free spread of values in [0, 1].
    const values = Array.from({ length: n }, (_, i) => ((i * 0.618034) % 1));
    const s = metricStats(values, bootstrapIndices(n, 3));
    const half = (1.96 * s.std) / Math.sqrt(n);
    expect(s.ci95[0]).toBeCloseTo(s.mean - half, 2);
    expect(s.ci95[1]).toBeCloseTo(s.mean + half, 2);
  });

  it('edge cases: one image has no std; no finite image has NaN everywhere', () => {
    const one = metricStats([0.7], bootstrapIndices(1, 1));
    expect([one.mean, one.ci95[0], one.ci95[1]]).toEqual([0.7, 0.7, 0.7]);
    expect(one.std).toBeNaN();
    const none = metricStats([NaN, NaN], bootstrapIndices(2, 1));
    expect(none.mean).toBeNaN();
    expect(none.ci95.every(Number.isNaN)).toBe(true);
    expect(none.perImage).toEqual([null, null]);
  });

  it('quantile interpolates linearly like numpy (0.025 of 1..5 is 1.1, 0.975 is 4.9)', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.025)).toBeCloseTo(1.1, 12);
    expect(quantile([1, 2, 3, 4, 5], 0.975)).toBeCloseTo(4.9, 12);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
