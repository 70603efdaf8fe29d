import { describe, expect, it } from 'vitest';
import { BACKGROUND, contrastFor, generateSyntheticItem, PROBABILITY_TIERS, syntheticDataset, SYNTHETIC_DEFAULTS } from '../../runtime/data/synthetic.js';
import { modeFrequencies } from '../../runtime/eval/metrics.js';

const sameArrays = (a: ArrayLike<number>[], b: ArrayLike<number>[]) =>
  a.length === b.length && a.every((x, i) => x.length === b[i]!.length && Array.from(x).every((v, k) => v === b[i]![k]));

describe('synthetic data: determinism', () => {
  it('is identical for the same seed, different for another seed', () => {
    const a = syntheticDataset({ count: 20, seed: 3 });
    const b = syntheticDataset({ count: 20, seed: 3 });
    const c = syntheticDataset({ count: 20, seed: 4 });
    expect(sameArrays(a.items.map((i) => i.image), b.items.map((i) => i.image))).toBe(true);
    expect(sameArrays(a.items.flatMap((i) => i.annotations), b.items.flatMap((i) => i.annotations))).toBe(true);
    expect(a.items.map((i) => i.modes!.map((m) => m.probability))).toEqual(b.items.map((i) => i.modes!.map((m) => m.probability)));
    expect(a.splits).toEqual(b.splits);
    expect(sameArrays(a.items.map((i) => i.image), c.items.map((i) => i.image))).toBe(false);
  });

  it('image i does not depend on how many images are generated', () => {
    const small = syntheticDataset({ count: 5, seed: 9 });
    const large = syntheticDataset({ count: 50, seed: 9 });
    expect(sameArrays(small.items.map((i) => i.image), large.items.slice(0, 5).map((i) => i.image))).toBe(true);
  });
});

describe('synthetic data: the known distribution', () => {
  const ds = syntheticDataset({ count: 240, seed: 0 });

  it('modes are every subset of shapes with product probabilities, truncated and renormalised as documented', () => {
    for (const item of ds.items) {
      // Independent enumeration of the subsets from the shapes' inclusion probabilities.
      const k = item.shapes.length;
      const expected: Array<{ label: string; p: number }> = [];
      for (let subset = 0; subset < 2 ** k; subset++) {
        let p = 1;
        const members: number[] = [];
        for (let i = 0; i < k; i++) {
          const inside = Math.floor(subset / 2 ** i) % 2 === 1;
          if (inside) members.push(i);
          p *= inside ? item.shapes[i]!.probability : 1 - item.shapes[i]!.probability;
        }
        if (p > 0) expected.push({ label: members.length ? `shapes {${members.join(',')}}` : 'empty', p });
      }
      const top = Math.max(...expected.map((e) => e.p));
      const kept = expected.filter((e) => e.p >= SYNTHETIC_DEFAULTS.minModeProbability || e.p === top);
      const total = kept.reduce((s, e) => s + e.p, 0);
      expect(item.modes.map((m) => m.label).sort()).toEqual(kept.map((e) => e.label).sort());
      for (const mode of item.modes) {
        expect(mode.probability).toBeCloseTo(kept.find((e) => e.label === mode.label)!.p / total, 12);
      }
      expect(item.modes.reduce((s, m) => s + m.probability, 0)).toBeCloseTo(1, 12);
      for (let i = 1; i < item.modes.length; i++) expect(item.modes[i]!.probability).toBeLessThanOrEqual(item.modes[i - 1]!.probability);
    }
  });

  it('mode masks are unions of the single-shape masks', () => {
    for (const item of ds.items) {
      const single = new Map(item.modes.filter((m) => /^shapes \{\d\}$/.test(m.label)).map((m) => [m.label.slice(8, -1), m.mask]));
      for (const mode of item.modes) {
        const members = mode.label === 'empty' ? [] : mode.label.slice(8, -1).split(',');
        if (!members.every((s) => single.has(s))) continue;
        const union = new Uint8Array(mode.mask.length);
        for (const s of members) single.get(s)!.forEach((v, p) => (union[p] = union[p]! | v));
        expect(Array.from(mode.mask)).toEqual(Array.from(union));
      }
    }
  });

  it('has empty modes, low-probability (0.1-0.5) modes, and certain shapes', () => {
    const withEmpty = ds.items.filter((i) => i.modes!.some((m) => m.label === 'empty' && m.mask.every((v) => v === 0)));
    expect(withEmpty.length).toBeGreaterThan(ds.items.length / 5);
    expect(ds.items.some((i) => i.modes!.some((m) => m.probability >= 0.1 && m.probability <= 0.5))).toBe(true);
    expect(ds.items.some((i) => i.modes!.length === 1)).toBe(true);
  });

  it('every annotation is assigned back to the mode it was drawn from (jitter never changes the mode)', () => {
    for (const data of [ds, syntheticDataset({ count: 60, seed: 1, jitter: 1, height: 48, width: 48 })]) {
      for (const item of data.items) {
        expect(modeFrequencies(item.annotations, item.modes).assignment).toEqual(item.annotationModes);
      }
    }
    // ...and the jitter really moves boundaries: most non-empty annotations differ from their mode mask.
    let changed = 0;
    let nonEmpty = 0;
    for (const item of ds.items) {
      item.annotations.forEach((a, k) => {
        const canonical = item.modes[item.annotationModes[k]!]!.mask;
        if (canonical.some((v) => v)) {
          nonEmpty++;
          if (a.some((v, p) => v !== canonical[p])) changed++;
        }
      });
    }
    expect(changed / nonEmpty).toBeGreaterThan(0.8);
  });

  it('empirical annotation-mode frequencies match the stated probabilities (binomial tolerance)', () => {
    const annotators = 3000;
    const many = syntheticDataset({ count: 6, seed: 11, annotators });
    let checked = 0;
    for (const item of many.items) {
      const { frequencies, other } = modeFrequencies(item.annotations, item.modes);
      expect(other).toBe(0);
      item.modes.forEach((mode, k) => {
        const std = Math.sqrt((mode.probability * (1 - mode.probability)) / annotators);
        // 4.5 std: with about 30 checks a false failure has probability ~1e-4 (and the seed is fixed).
        expect(Math.abs(frequencies[k]! - mode.probability)).toBeLessThanOrEqual(4.5 * std + 1e-12);
        checked++;
      });
      // Shape marginals: the fraction of annotations containing shape i is close to its p_i
      // (exactly p_i up to the truncated mass, which is < 2^maxShapes * minModeProbability).
      item.shapes.forEach((shape, i) => {
        const holding = item.modes.filter((m) => m.label !== 'empty' && m.label.slice(8, -1).split(',').includes(String(i)));
        const marginal = holding.reduce((s, m) => s + m.probability, 0);
        expect(Math.abs(marginal - shape.probability)).toBeLessThan(0.08);
      });
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('draws shapes with contrast increasing in their probability', () => {
    expect(contrastFor(PROBABILITY_TIERS[0])).toBeGreaterThan(contrastFor(PROBABILITY_TIERS[4]));
    const clean = syntheticDataset({ count: 30, noise: 0 });
    for (const item of clean.items) {
      for (const shape of item.shapes) {
        // With no noise, the pixel at a shape's centre is background + its contrast.
        const p = Math.floor(shape.cy) * clean.width + Math.floor(shape.cx);
        expect(item.image[p]).toBeCloseTo(BACKGROUND + contrastFor(shape.probability), 5);
      }
    }
  });
});

describe('synthetic data: options', () => {
  it('honours size, channels, classes, annotators and groups', () => {
    const ds = syntheticDataset({ count: 30, height: 24, width: 40, channels: 3, classes: 4, annotators: 2, groupSize: 3 });
    expect([ds.height, ds.width, ds.channels, ds.classes]).toEqual([24, 40, 3, 4]);
    for (const item of ds.items) {
      expect(item.image.length).toBe(24 * 40 * 3);
      for (let p = 0; p < 24 * 40; p++) expect(item.image[p * 3]).toBe(item.image[p * 3 + 2]);
      expect(item.annotations).toHaveLength(2);
      for (const a of item.annotations) expect(Math.max(...a)).toBeLessThan(4);
      const kindClass = { disc: 1, ellipse: 2, rectangle: 3 };
      for (const s of item.shapes) expect(s.classId).toBe(kindClass[s.kind]);
    }
    const { train, val, test } = ds.splits;
    expect([...train, ...val, ...test].sort((a, b) => a - b)).toEqual(ds.items.map((_, i) => i));
    const groupOf = (i: number) => ds.items[i]!.group;
    const trainGroups = new Set(train.map(groupOf));
    for (const i of [...val, ...test]) expect(trainGroups.has(groupOf(i))).toBe(false);
    expect(new Set(ds.items.map((i) => i.group)).size).toBe(10);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => syntheticDataset({ count: 0 })).toThrow(/'count' must be a positive integer, got 0/);
    expect(() => syntheticDataset({ minShapes: 3, maxShapes: 2 })).toThrow(/minShapes \(3\) > maxShapes \(2\)/);
    expect(() => syntheticDataset({ height: 8 })).toThrow(/at least 16x16/);
    expect(() => syntheticDataset({ classes: 1 })).toThrow(/'classes' must be an integer >= 2/);
  });

  it('generates one item without the rest (used by tests and tools)', () => {
    const opts = { ...SYNTHETIC_DEFAULTS, seed: 3 };
    const item = generateSyntheticItem(7, opts);
    expect(item.id).toBe('synthetic-7');
    expect(Array.from(item.image)).toEqual(Array.from(syntheticDataset({ count: 8, seed: 3 }).items[7]!.image));
  });
});

describe('synthetic data: learnable (the image tells each shape its probability)', () => {
  it('a histogram of P(foreground | 3x3 local mean) fit on train recovers the tiers on test', () => {
    // The simplest possible "model": per bin of local mean intensity, the fraction of annotated
    // foreground pixels over the training split. If this already recovers each shape's inclusion
    // probability on the test split, a tiny conv net can learn it too.
    const ds = syntheticDataset({ count: 240, seed: 0 });
    const { height: H, width: W } = ds;
    const BINS = 40;
    const localMean = (img: Float32Array, x: number, y: number) => {
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < W && yy < H) {
            sum += img[yy * W + xx]!;
            n++;
          }
        }
      }
      return sum / n;
    };
    const bin = (v: number) => Math.min(BINS - 1, Math.max(0, Math.floor(v * BINS)));
    const foreground = new Float64Array(BINS);
    const total = new Float64Array(BINS);
    for (const i of ds.splits.train) {
      const item = ds.items[i]!;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const b = bin(localMean(item.image, x, y));
          for (const a of item.annotations) {
            total[b]!++;
            if (a[y * W + x]) foreground[b]!++;
          }
        }
      }
    }
    const predicted = new Map<number, number[]>();
    for (const i of ds.splits.test) {
      const item = ds.items[i]!;
      for (const s of item.shapes) {
        const b = bin(localMean(item.image, Math.floor(s.cx), Math.floor(s.cy)));
        const list = predicted.get(s.probability) ?? [];
        list.push(total[b]! ? foreground[b]! / total[b]! : 0);
        predicted.set(s.probability, list);
      }
    }
    const tiers = [...predicted.keys()].sort((a, b) => b - a);
    expect(tiers.length).toBeGreaterThanOrEqual(4);
    const means = tiers.map((t) => predicted.get(t)!.reduce((a, b) => a + b, 0) / predicted.get(t)!.length);
    tiers.forEach((t, k) => expect(Math.abs(means[k]! - t)).toBeLessThan(0.15));
    for (let k = 1; k < means.length; k++) expect(means[k]!).toBeLessThan(means[k - 1]!);
  });
});
