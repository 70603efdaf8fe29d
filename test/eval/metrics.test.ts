import { describe, expect, it } from 'vitest';
import {
  ged,
  gedComponents,
  hungarianIoU,
  modeFrequencies,
  modeFrequencyTV,
  ncc,
  nccDetails,
  perfectSamplerTV,
  sampleDiversity,
} from '../../runtime/eval/index.js';

const m = (...values: number[]) => Uint8Array.from(values);

// Masks of 4 pixels used by the hand-worked cases.
const s1 = m(1, 1, 0, 0);
const s2 = m(0, 1, 1, 0);
const y1 = m(1, 1, 0, 0);
const empty = m(0, 0, 0, 0);

describe('ged (V-statistic, LIDC conventions)', () => {
  it('two samples, two annotations (one empty): hand-worked', () => {
    // d(s1,y1) = 0 (identical); d(s1,empty) = 1; d(s2,y1): intersection {1}, union {0,1,2} -> 1 - 1/3 = 2/3;
    // d(s2,empty) = 1.  cross = (0 + 1 + 2/3 + 1) / 4 = 2/3.
    // samples: d(s1,s2) = 2/3, diagonal 0 -> (2 * 2/3) / 4 = 1/3.
    // annotations: d(y1,empty) = 1 -> 2 / 4 = 1/2.
    // GED^2 = 2 * 2/3 - 1/3 - 1/2 = 1/2.
    const parts = gedComponents([s1, s2], [y1, empty]);
    expect(parts.cross).toBeCloseTo(2 / 3, 12);
    expect(parts.samples).toBeCloseTo(1 / 3, 12);
    expect(parts.annotations).toBeCloseTo(1 / 2, 12);
    expect(ged([s1, s2], [y1, empty])).toBeCloseTo(1 / 2, 12);
  });

  it('accepts nested number[][] masks with the same result', () => {
    const nested = (mask: Uint8Array) => [Array.from(mask.subarray(0, 2)), Array.from(mask.subarray(2))];
    expect(ged([nested(s1), nested(s2)], [nested(y1), nested(empty)])).toBeCloseTo(1 / 2, 12);
  });

  it('all empty: every distance is 0, so GED = 0', () => {
    expect(ged([empty, empty], [empty, empty, empty])).toBe(0);
  });

  it('empty sample against a non-empty annotation: d = 1, GED = 2*1 - 0 - 0 = 2', () => {
    expect(ged([empty], [y1])).toBe(2);
  });

  it('identical sets give 0 (one mask, and several masks with the diagonal included)', () => {
    expect(ged([s1], [s1])).toBe(0);
    // With the diagonal included, cross = within-samples = within-annotations, so 2c - c - c = 0.
    expect(ged([s1, s2, empty], [s1, s2, empty])).toBeCloseTo(0, 12);
  });

  it('treats every non-zero class as foreground by default; foreground: k selects a class', () => {
    const a = m(0, 2, 1, 0);
    const b = m(0, 1, 1, 0);
    expect(ged([a], [b])).toBe(0); // same foreground {1, 2}
    // class 1 only: {2} vs {1, 2} -> IoU 1/2, d = 1/2, GED = 2 * 1/2 = 1.
    expect(ged([a], [b], { foreground: 1 })).toBeCloseTo(1, 12);
  });

  it('uses a custom distance when given', () => {
    // Hamming fraction: d(s1,y1) = 0, d(s2,y1) = 2/4; d(s1,s2) = 2/4.
    const hamming = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0) / a.length;
    // cross = (0 + 1/2) / 2 = 1/4; samples = (2 * 1/2) / 4 = 1/4; annotations = 0 -> GED = 1/2 - 1/4 = 1/4.
    expect(ged([s1, s2], [y1], { distance: hamming })).toBeCloseTo(1 / 4, 12);
    expect(() => ged([s1], [y1], { distance: () => NaN })).toThrow(/custom distance returned NaN/);
  });

  it('rejects unequal sizes and bad values with an error naming them', () => {
    expect(() => ged([s1], [m(1, 0, 0)])).toThrow('ged: masks must all have the same size, but sample 0 has 4 pixels and annotation 0 has 3 pixels');
    expect(() => ged([[[1, 0], [0, 0]]], [[[1, 0, 0, 0]]])).toThrow(/\(2x2\) and annotation 0 has 4 pixels \(1x4\)/);
    expect(() => ged([[[1, 0], [0]]], [s1])).toThrow(/row 1 has 1 values but row 0 has 2/);
    expect(() => ged([[0.5, 0, 0, 0]], [s1])).toThrow(/pixel 0 is 0.5/);
    expect(() => ged([], [s1])).toThrow(/needs at least 1 sample, got 0/);
  });
});

describe('hungarianIoU', () => {
  it('two samples, two annotations: hand-worked', () => {
    // 1 - IoU costs: s1: [y1 0, empty 1]; s2: [y1 2/3, empty 1].
    // s1->y1, s2->empty: 0 + 1 = 1; s1->empty, s2->y1: 1 + 2/3. Best total 1 -> mean IoU = 1 - 1/2.
    expect(hungarianIoU([s1, s2], [y1, empty])).toBeCloseTo(0.5, 12);
  });

  it('both empty counts as IoU 1; one empty as 0', () => {
    expect(hungarianIoU([empty, empty], [empty])).toBe(1);
    expect(hungarianIoU([empty], [y1])).toBe(0);
  });

  it('tiles annotations up to N when N is a multiple of M', () => {
    expect(hungarianIoU([y1, empty, empty, y1], [y1, empty])).toBe(1);
    // 3 copies of y1 and 1 empty against tiled [y1, empty, y1, empty]: one y1 must meet an empty.
    expect(hungarianIoU([y1, y1, y1, empty], [y1, empty])).toBeCloseTo(3 / 4, 12);
  });

  it('tiles both to lcm(N, M) otherwise (documented): N = 3, M = 2', () => {
    const a = m(1, 1, 0, 0);
    const b = m(0, 0, 1, 1); // disjoint from a: IoU 0
    // lcm 6: samples a x4, b x2; annotations a x3, b x3 -> 3 a-a, 1 a-b, 2 b-b: IoU (3 + 0 + 2) / 6.
    expect(hungarianIoU([a, a, b], [a, b])).toBeCloseTo(5 / 6, 12);
    // N = 1 < M = 2: the sample meets each annotation once.
    expect(hungarianIoU([a], [a, b])).toBeCloseTo(1 / 2, 12);
  });

  it('refuses absurd tilings with a clear message', () => {
    const many = (n: number) => Array.from({ length: n }, () => s1);
    expect(() => hungarianIoU(many(97), many(89), { maxTiledSize: 2048 })).toThrow(/lcm = 8633 > 2048/);
  });
});

describe('sampleDiversity', () => {
  it('is the mean over distinct pairs (diagonal excluded)', () => {
    // Only pair: d(s1, s2) = 2/3.
    expect(sampleDiversity([s1, s2])).toBeCloseTo(2 / 3, 12);
    // Pairs: d(s1,s2) = 2/3, d(s1,empty) = 1, d(s2,empty) = 1 -> (2/3 + 2) / 3 = 8/9.
    expect(sampleDiversity([s1, s2, empty])).toBeCloseTo(8 / 9, 12);
    expect(sampleDiversity([s1, s1])).toBe(0);
  });

  it('is NaN for a single sample (no pairs)', () => {
    expect(sampleDiversity([s1])).toBeNaN();
  });
});

describe('ncc (S_NCC, PHiSeg)', () => {
  // Samples s_a = [1,0,0,0], s_b = [0,0,0,0]: mean s_bar = [1/2,0,0,0].
  // With L = -log(eps) and c = -log(1 + eps): CE(1/2, 1) = CE(1/2, 0) = (L + c)/2, CE(0, 0) = c,
  // so E_ss = c + (L - c) * [1/2, 0, 0, 0].
  const sa = m(1, 0, 0, 0);
  const sb = m(0, 0, 0, 0);

  it('hand-worked: annotation equal to a sample correlates perfectly', () => {
    // y = [1,0,0,0]: E_sy = [(c + L)/2, c, c, c] = E_ss -> NCC = 1.
    expect(ncc([sa, sb], [m(1, 0, 0, 0)])).toBeCloseTo(1, 9);
  });

  it('hand-worked: a value strictly between -1 and 1, and the mean over annotations', () => {
    // y = [1,1,0,0]: E_sy = c + (L - c) * [1/2, 1, 0, 0]. Pearson is affine invariant, so
    // NCC = corr([1,0,0,0], [1/2,1,0,0]): deviations [3/4,-1/4,-1/4,-1/4] and [1/8,5/8,-3/8,-3/8],
    // covariance sum 1/8, squares 3/4 and 11/16 -> (1/8) / sqrt(33/64) = 1/sqrt(33).
    expect(ncc([sa, sb], [m(1, 1, 0, 0)])).toBeCloseTo(1 / Math.sqrt(33), 9);
    const details = nccDetails([sa, sb], [m(1, 0, 0, 0), m(1, 1, 0, 0)]);
    expect(details.perAnnotation[0]).toBeCloseTo(1, 9);
    expect(details.perAnnotation[1]).toBeCloseTo(1 / Math.sqrt(33), 9);
    expect(details.value).toBeCloseTo((1 + 1 / Math.sqrt(33)) / 2, 9);
    expect(details.note).toBeUndefined();
  });

  it('is NaN (with a note, no throw) when all samples are identical: E_ss is constant', () => {
    const details = nccDetails([s1, s1], [y1, empty]);
    expect(details.value).toBeNaN();
    expect(details.note).toMatch(/constant/);
    expect(ncc([empty, empty], [empty])).toBeNaN();
  });

  it('leaves out an annotation whose E_sy map is constant and says so', () => {
    // Soft samples p_a = [1, x], p_b = [0, x] on 2 pixels, annotation y = [0, 0]:
    // E_sy = [(L + c)/2, -log(1 - x + eps)], constant when -log(1 - x + eps) = (L + c)/2.
    const eps = 1e-8;
    const L = -Math.log(eps);
    const c = -Math.log(1 + eps);
    const x = 1 + eps - Math.exp(-(L + c) / 2);
    const probabilities = [Float64Array.of(1, x), Float64Array.of(0, x)];
    // Annotation [1, 1]: E_sy = [(L + c)/2, -log(x + eps) ~ 0], E_ss = [(L + c)/2, H(x) ~ 0]; with two
    // pixels the correlation of two non-constant maps is +-1: here both decrease, so +1.
    const details = nccDetails([m(1, 1), m(0, 1)], [m(0, 0), m(1, 1)], { probabilities });
    expect(details.perAnnotation[0]).toBeNaN();
    expect(details.perAnnotation[1]).toBeCloseTo(1, 9);
    expect(details.value).toBe(details.perAnnotation[1]);
    expect(details.note).toMatch(/1 of 2 annotations left out/);
  });

  it('hard probabilities reproduce the hard-mask result; bad maps are rejected', () => {
    const probabilities = [sa, sb].map((mask) => Float32Array.from(mask));
    expect(ncc([sa, sb], [m(1, 1, 0, 0)], { probabilities })).toBeCloseTo(1 / Math.sqrt(33), 9);
    expect(() => ncc([sa, sb], [y1], { probabilities: [probabilities[0]!] })).toThrow(/1 probability maps for 2 samples/);
    expect(() => ncc([sa], [y1], { probabilities: [[2, 0, 0, 0]] })).toThrow(/pixel 0 is 2/);
  });
});

describe('mode frequencies and total variation', () => {
  const a = m(1, 1, 1, 1, 0, 0, 0, 0);
  const b = m(0, 0, 0, 0, 1, 1, 1, 0);
  const none = m(0, 0, 0, 0, 0, 0, 0, 0);
  const modes = [
    { mask: a, probability: 0.5, label: 'a' },
    { mask: b, probability: 0.3, label: 'b' },
    { mask: none, probability: 0.2, label: 'empty' },
  ];

  it('known case: frequencies, the other bucket and TV', () => {
    const aJittered = m(1, 1, 1, 0, 0, 0, 0, 0); // IoU 3/4 with a -> d = 1/4 <= 0.5
    const far = m(0, 0, 0, 1, 1, 0, 0, 1); // IoU with a: 1/7, with b: 1/5 -> nearest b at d = 4/5 > 0.5 -> other
    const samples = [a, aJittered, b, far];
    const freq = modeFrequencies(samples, modes);
    expect(freq.assignment).toEqual([0, 0, 1, -1]);
    expect(freq.frequencies).toEqual([0.5, 0.25, 0]);
    expect(freq.other).toBe(0.25);
    // TV = (|0.5-0.5| + |0.25-0.3| + |0-0.2| + 0.25) / 2 = 0.25.
    expect(modeFrequencyTV(samples, modes)).toBeCloseTo(0.25, 12);
    // A looser threshold puts `far` into its nearest mode, b.
    expect(modeFrequencies(samples, modes, { threshold: 0.9 }).assignment).toEqual([0, 0, 1, 1]);
    // Ties go to the earlier (more probable) mode: [0,1,1,0] has IoU 1/3 with both modes.
    const tied = [
      { mask: m(1, 1, 0, 0), probability: 0.6 },
      { mask: m(0, 0, 1, 1), probability: 0.4 },
    ];
    expect(modeFrequencies([m(0, 1, 1, 0)], tied, { threshold: 0.9 }).assignment).toEqual([0]);

  });

  it('is 0 when frequencies match exactly', () => {
    const samples = [a, a, a, a, a, b, b, b, none, none];
    expect(modeFrequencyTV(samples, modes)).toBeCloseTo(0, 12);
  });

  it('rejects probabilities that do not sum to 1', () => {
    expect(() => modeFrequencyTV([a], [{ mask: a, probability: 0.4 }])).toThrow(/sum to 0.4, expected 1/);
  });

  it('perfectSamplerTV: hand-worked small cases and a Monte Carlo check', () => {
    // n = 1, p = (1/2, 1/2): each |X - 1/2| = 1/2 -> TV = (1/2 + 1/2) / 2.
    expect(perfectSamplerTV([0.5, 0.5], 1)).toBeCloseTo(0.5, 12);
    // n = 2: E|X/2 - 1/2| = 1/4 * 1/2 + 1/2 * 0 + 1/4 * 1/2 = 1/4 per mode -> TV = 1/4.
    expect(perfectSamplerTV([0.5, 0.5], 2)).toBeCloseTo(0.25, 12);
    expect(perfectSamplerTV([1], 16)).toBe(0);

    let state = 12345;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const p = [0.5, 0.3, 0.2];
    const n = 16;
    const trials = 20000;
    let sum = 0;
    for (let t = 0; t < trials; t++) {
      const counts = [0, 0, 0];
      for (let i = 0; i < n; i++) {
        const u = random();
        counts[u < 0.5 ? 0 : u < 0.8 ? 1 : 2]!++;
      }
      sum += counts.reduce((s, c, k) => s + Math.abs(c / n - p[k]!), 0) / 2;
    }
    // TV per trial lies in [0, 1]: the Monte Carlo mean's std is < 0.5 / sqrt(20000) ~ 0.0035.
    expect(Math.abs(sum / trials - perfectSamplerTV(p, n))).toBeLessThan(0.012);
  });
});

describe('bitset IoU path agrees with a direct set computation', () => {
  it('on random multi-word masks (63 pixels, bit 31 included)', () => {
    let state = 99;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 200; trial++) {
      const density = random();
      const a = Uint8Array.from({ length: 63 }, () => (random() < density ? 1 + Math.floor(random() * 2) : 0));
      const b = Uint8Array.from({ length: 63 }, () => (random() < density ? 1 : 0));
      const inA = new Set([...a.keys()].filter((i) => a[i]! > 0));
      const inB = new Set([...b.keys()].filter((i) => b[i]! > 0));
      const both = [...inA].filter((i) => inB.has(i)).length;
      const union = inA.size + inB.size - both;
      const expectedIoU = union === 0 ? 1 : both / union;
      expect(hungarianIoU([a], [b])).toBeCloseTo(expectedIoU, 12);
      expect(ged([a], [b])).toBeCloseTo(2 * (1 - expectedIoU), 12);
    }
  });
});

describe('ncc agrees with the literal PHiSeg definition on random soft samples', () => {
  it('direct loops over samples and annotations give the same value', () => {
    let state = 5;
    const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const eps = 1e-8;
    const ce = (t: number, q: number) => -(t * Math.log(q + eps) + (1 - t) * Math.log(1 - q + eps));
    const pearson = (a: number[], b: number[]) => {
      const ma = a.reduce((s, v) => s + v, 0) / a.length;
      const mb = b.reduce((s, v) => s + v, 0) / b.length;
      let cov = 0;
      let va = 0;
      let vb = 0;
      a.forEach((v, k) => {
        cov += (v - ma) * (b[k]! - mb);
        va += (v - ma) ** 2;
        vb += (b[k]! - mb) ** 2;
      });
      return cov / Math.sqrt(va * vb);
    };
    for (let trial = 0; trial < 20; trial++) {
      const pixels = 30;
      const probabilities = Array.from({ length: 5 }, () => Array.from({ length: pixels }, () => random()));
      const samples = probabilities.map((p) => Uint8Array.from(p, (v) => (v > 0.5 ? 1 : 0)));
      const annotations = Array.from({ length: 3 }, () => Uint8Array.from({ length: pixels }, () => (random() < 0.4 ? 1 : 0)));
      const mean = Array.from({ length: pixels }, (_, k) => probabilities.reduce((s, p) => s + p[k]!, 0) / probabilities.length);
      const eSS = mean.map((m, k) => probabilities.reduce((s, p) => s + ce(m, p[k]!), 0) / probabilities.length);
      const terms = annotations.map((y) =>
        pearson(
          eSS,
          mean.map((_, k) => probabilities.reduce((s, p) => s + ce(y[k]!, p[k]!), 0) / probabilities.length),
        ),
      );
      const expected = terms.reduce((s, v) => s + v, 0) / terms.length;
      expect(ncc(samples, annotations, { probabilities })).toBeCloseTo(expected, 9);
    }
  });
});
