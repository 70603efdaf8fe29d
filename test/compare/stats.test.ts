import { describe, expect, it } from 'vitest';
import { incompleteBeta, logGamma, sampleSd, signTest, studentTCdf, studentTQuantile, tInterval } from '../../runtime/compare/stats.js';
import { bootstrapCi95, bootstrapIndices, metricStats } from '../../runtime/eval/uncertainty.js';
import { createRandom } from '../../runtime/data/synthetic.js';

/** C(n, k) by exact integer products (small n). */
function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe('special functions', () => {
  it('logGamma matches factorials', () => {
    for (const n of [1, 2, 5, 10, 20]) {
      let f = 1;
      for (let i = 2; i < n; i++) f *= i;
      expect(logGamma(n)).toBeCloseTo(Math.log(f), 10);
    }
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it('incomplete beta with integer a, b equals a binomial tail', () => {
    // I_x(a, b) = P(Binomial(a + b - 1, x) >= a)
    for (const [x, a, b] of [[0.5, 2, 3], [0.3, 4, 7], [0.9, 10, 2], [0.05, 1, 30]] as const) {
      const n = a + b - 1;
      let tail = 0;
      for (let j = a; j <= n; j++) tail += choose(n, j) * x ** j * (1 - x) ** (n - j);
      expect(incompleteBeta(x, a, b)).toBeCloseTo(tail, 12);
    }
  });
});

describe('Student t', () => {
  it('two-sided 95% quantiles match the printed table', () => {
    const table: Array<[number, number]> = [[1, 12.7062047362], [2, 4.3026527297], [4, 2.7764451052], [10, 2.2281388520], [30, 2.0422724563], [100, 1.9839715185]];
    for (const [df, q] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(q, 8);
  });

  it('df = 1 is the Cauchy distribution', () => {
    for (const t of [-3, -0.5, 0, 0.7, 5]) expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
  });

  it('tInterval: mean +- t * sd / sqrt(n)', () => {
    const xs = [0.31, 0.27, 0.35];
    const sd = Math.sqrt(((0.31 - 0.31) ** 2 + (0.27 - 0.31) ** 2 + (0.35 - 0.31) ** 2) / 2);
    expect(sampleSd(xs)).toBeCloseTo(sd, 14);
    const ci = tInterval(xs);
    expect(ci.mean).toBeCloseTo(0.31, 14);
    expect(ci.hi - ci.mean).toBeCloseTo(4.3026527297 * sd / Math.sqrt(3), 8);
    expect(tInterval([1]).lo).toBeNaN();
  });
});

describe('sign test', () => {
  it('exact binomial p-values', () => {
    // 9 of 10 positive: 2 * (C(10,0) + C(10,1)) / 2^10
    expect(signTest([...Array(9).fill(0.1), -0.2]).p).toBeCloseTo(22 / 1024, 14);
    // 5 of 20 negative: 2 * sum_{i<=5} C(20, i) / 2^20 = 2 * 21700 / 1048576
    const d = [...Array(15).fill(1), ...Array(5).fill(-1)];
    expect(signTest(d).p).toBeCloseTo((2 * 21700) / 1048576, 14);
    // ties are left out; a balanced split gives p = 1
    const t = signTest([1, -1, 0, 0]);
    expect(t).toEqual({ positive: 1, negative: 1, ties: 2, p: 1 });
  });

  it('stays finite for thousands of pairs', () => {
    const p = signTest([...Array(1200).fill(1), ...Array(1000).fill(-1)]).p;
    // normal approximation with continuity correction: z = (1100 - 0.5 - 1000) / sqrt(2200 / 4)... one-sided doubled
    const z = (1200 - 1100 - 0.5) / Math.sqrt(2200 / 4);
    const approx = 2 * 0.5 * (1 - erf(z / Math.SQRT2));
    expect(p).toBeGreaterThan(0);
    expect(Math.abs(Math.log(p / approx))).toBeLessThan(0.05);
  });
});

describe('paired bootstrap (the evaluation\'s, drawn without the index table)', () => {
  it('equals metricStats with the shared index table, is deterministic for a seed and collapses on constant differences', () => {
    for (const v of bootstrapCi95([0.2, 0.2, 0.2], 1)) expect(v).toBeCloseTo(0.2, 12);
    const xs = [0.1, -0.3, 0.25, 0.05, 0.4, -0.1];
    expect(bootstrapCi95(xs, 3)).toEqual(bootstrapCi95(xs, 3));
    expect(bootstrapCi95(xs, 3)).toEqual(metricStats(xs, bootstrapIndices(xs.length, 3)).ci95);
    expect(bootstrapCi95([], 3).every(Number.isNaN)).toBe(true);
  });

  it('agrees with the normal-theory interval for many roughly normal differences', () => {
    const rng = createRandom(11);
    const xs = Array.from({ length: 400 }, () => 0.05 + 0.2 * rng.normal());
    const [lo, hi] = bootstrapCi95(xs, 5, 4000);
    const t = tInterval(xs);
    expect(lo).toBeCloseTo(t.lo, 2);
    expect(hi).toBeCloseTo(t.hi, 2);
  });
});

/** erf (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7): an independent check of the sign test's tail. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
