/**
 * input.normalize: each mode against an independent computation, the default leaving data
 * untouched (built-in results unchanged), and the one place that applies it (loadData) giving
 * training, evaluation and sampling the same images.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeDataset, normalizeImage, trainingStats } from '../../runtime/data/normalize.js';
import { resolve } from '../../runtime/train/contributions.js';
import type { Dataset } from '../../runtime/data/types.js';
import { loadData } from '../../runtime/run/session.js';
import { createRegistry } from '../../plugins/index.js';
import { loadSpec } from '../../spec/index.js';
import { TINY_SPEC } from '../cli/helpers.js';

function tiny(): Dataset {
  const img = (k: number) => Float32Array.from({ length: 8 }, (_, i) => (i * (k + 1)) / 20 + k / 10);
  return {
    name: 't',
    height: 2,
    width: 2,
    channels: 2,
    classes: 2,
    items: [0, 1, 2].map((k) => ({ id: `i${k}`, group: `g${k}`, image: img(k), annotations: [] })),
    splits: { train: [0, 1], val: [], test: [2] },
    provenance: {},
  };
}

describe('input.normalize', () => {
  it('z-score: per image and channel, mean 0 and population std 1', () => {
    const image = Float32Array.of(0.1, 5, 0.3, 6, 0.5, 7, 0.9, 9);
    const out = normalizeImage(image, 2, 'z-score');
    for (const c of [0, 1]) {
      const xs = [0, 1, 2, 3].map((p) => image[p * 2 + c]!);
      const mean = xs.reduce((a, b) => a + b) / 4;
      const std = Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / 4);
      xs.forEach((v, p) => expect(out[p * 2 + c]).toBeCloseTo((v - mean) / std, 5));
    }
  });

  it('percentile: the 0.5-99.5 % nearest-rank window to [0, 1], clipped', () => {
    // 1000 values 0..999 plus two outliers: the window is [rank 6, rank 997] of the sorted 1002.
    const values = [...Array.from({ length: 1000 }, (_, i) => i), -500, 5000];
    const out = normalizeImage(Float32Array.from(values), 1, 'percentile');
    const sorted = [...values].sort((a, b) => a - b);
    const low = sorted[Math.ceil(0.005 * 1002) - 1]!;
    const high = sorted[Math.ceil(0.995 * 1002) - 1]!;
    expect(out[500]).toBeCloseTo((500 - low) / (high - low), 5);
    expect(out[1000]).toBe(0); // -500 clipped
    expect(out[1001]).toBe(1); // 5000 clipped
  });

  it('dataset: one mean/std per channel over the training split only, recorded in the provenance', () => {
    const ds = tiny();
    const stats = trainingStats(ds);
    for (const c of [0, 1]) {
      const xs = [0, 1].flatMap((k) => [0, 1, 2, 3].map((p) => ds.items[k]!.image[p * 2 + c]!));
      const mean = xs.reduce((a, b) => a + b) / xs.length;
      expect(stats.mean[c]).toBeCloseTo(mean, 6);
      expect(stats.std[c]).toBeCloseTo(Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / xs.length), 6);
    }
    const out = normalizeDataset(ds, 'dataset');
    expect(out.provenance.normalize).toEqual({ mode: 'dataset', stats });
    expect(out.items[2]!.image[3]).toBeCloseTo((ds.items[2]!.image[3]! - stats.mean[1]!) / stats.std[1]!, 5);
    expect(ds.items[2]!.image[3]).toBeCloseTo(0.15 * 3 + 0.2, 6); // the loaded data is not changed
  });

  it('none (and a spec without normalize) returns the very same dataset', () => {
    const ds = tiny();
    expect(normalizeDataset(ds, 'none')).toBe(ds);
    expect(normalizeDataset(ds, undefined)).toBe(ds);
  });

  it('loadData applies the spec mode, and an old spec (no normalize) loads the built-in data unchanged', async () => {
    const registry = createRegistry();
    const { spec } = await loadSpec(TINY_SPEC, { registry });
    expect(spec!.input.normalize).toBeUndefined();
    const plain = await loadData(spec!, registry, '.');
    // What the data source itself produces, without loadData.
    const { contribution, options } = resolve(registry, 'dataSources', spec!.train.data, 'train.data', spec!);
    const reference = await contribution.load({ options, input: spec!.input, seed: spec!.train.seed, specDir: '.' });
    expect(Array.from(plain.items[5]!.image)).toEqual(Array.from(reference.items[5]!.image));
    const zs = await loadData({ ...spec!, input: { ...spec!.input, normalize: 'z-score' } }, registry, '.');
    expect(Array.from(zs.items[5]!.image)).toEqual(Array.from(normalizeImage(plain.items[5]!.image, 1, 'z-score')));
  });

  it('the spec: a known mode validates (W403 on built-in synthetic data), a typo is E307 with a suggestion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'punet-normalize-'));
    const write = (mode: string) => {
      const file = join(dir, `${mode}.punet`);
      writeFileSync(file, `extends "${TINY_SPEC}"\nmodel "n" {\n  input { normalize: ${mode} }\n}\n`);
      return file;
    };
    const ok = await loadSpec(write('percentile'), { registry: createRegistry() });
    expect(ok.spec!.input.normalize).toBe('percentile');
    expect(ok.diagnostics.map((d) => d.code)).toEqual(['W403']);
    const typo = await loadSpec(write('zscore'), { registry: createRegistry() });
    expect(typo.spec).toBeUndefined();
    expect(typo.diagnostics[0]).toMatchObject({ code: 'E307' });
    expect(typo.diagnostics[0]!.message).toMatch(/must be one of none, dataset, percentile, z-score; found 'zscore': did you mean 'z-score'/);
    rmSync(dir, { recursive: true, force: true });
  });
});
