import { describe, expect, it } from 'vitest';
import { BatchSampler } from '../../runtime/train/batches.js';
import { hash32, permutation, randomInt, STREAM, uniform } from '../../runtime/train/rng.js';
import { tinyDataset } from './helpers.js';

describe('counter-based randomness', () => {
  it('is a pure function of its inputs and differs between streams and counters', () => {
    expect(hash32(7, STREAM.latent, 3)).toBe(hash32(7, STREAM.latent, 3));
    expect(hash32(7, STREAM.latent, 3)).not.toBe(hash32(7, STREAM.latent, 4));
    expect(hash32(7, STREAM.latent, 3)).not.toBe(hash32(7, STREAM.shuffle, 3));
    expect(hash32(7, STREAM.latent, 3)).not.toBe(hash32(8, STREAM.latent, 3));
    // counters above 2^32 are not truncated onto small ones
    expect(hash32(1, 2 ** 32 + 5)).not.toBe(hash32(1, 5));
  });

  it('gives uniform values: mean 1/2 and variance 1/12 within sampling error', () => {
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = uniform(3, 9, i);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      s += u;
      s2 += u * u;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    // standard error of the mean is sqrt(1/12/n) ~ 0.002
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.005);
  });

  it('randomInt covers every value with about equal frequency', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[randomInt(3, 1, i)]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it('permutation is a permutation', () => {
    const p = permutation(50, 11, 1);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('BatchSampler', () => {
  const dataset = tinyDataset();

  it('visits every train item exactly once per epoch, only train items', () => {
    const sampler = new BatchSampler(dataset, dataset.splits.train, 4, 5);
    const epoch0 = [...sampler.itemsAt(0), ...sampler.itemsAt(1)];
    const epoch1 = [...sampler.itemsAt(2), ...sampler.itemsAt(3)];
    expect([...epoch0].sort()).toEqual(dataset.splits.train);
    expect([...epoch1].sort()).toEqual(dataset.splits.train);
    expect(epoch0).not.toEqual(epoch1);
  });

  it('wraps epochs inside a batch when the batch size does not divide the split', () => {
    const sampler = new BatchSampler(dataset, dataset.splits.train, 3, 5);
    const first = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((s) => sampler.itemsAt(s)).slice(0, 8);
    expect([...first].sort()).toEqual(dataset.splits.train);
  });

  it('depends only on (seed, step): a fresh sampler at step k gives the same batch', () => {
    const a = new BatchSampler(dataset, dataset.splits.train, 3, 5);
    for (let s = 0; s < 5; s++) a.batchAt(s);
    const b = new BatchSampler(dataset, dataset.splits.train, 3, 5);
    const ba = a.batchAt(5);
    const bb = b.batchAt(5);
    expect(bb.items).toEqual(ba.items);
    expect(bb.annotations).toEqual(ba.annotations);
    expect(Buffer.from(bb.masks.buffer).equals(Buffer.from(ba.masks.buffer))).toBe(true);
  });

  it('copies the drawn annotation of each item into the mask batch', () => {
    const sampler = new BatchSampler(dataset, dataset.splits.train, 3, 5);
    const picked = new Set<number>();
    for (let s = 0; s < 20; s++) {
      const batch = sampler.batchAt(s);
      batch.items.forEach((item, b) => {
        picked.add(batch.annotations[b]!);
        const expected = dataset.items[item]!.annotations[batch.annotations[b]!]!;
        expect(Array.from(batch.masks.subarray(b * 256, (b + 1) * 256))).toEqual(Array.from(expected));
        expect(Array.from(batch.images.subarray(b * 256, (b + 1) * 256))).toEqual(Array.from(dataset.items[item]!.image));
      });
    }
    expect(picked).toEqual(new Set([0, 1])); // both annotators get drawn
  });
});
