import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPng } from '../../runtime/data/png.js';
import { evaluateSplit } from '../../runtime/sample/evaluate.js';
import { foregroundFrequency, SAMPLE_BLOCK, samplePrior, sampleItems } from '../../runtime/sample/sampler.js';
import { writeSampleImages } from '../../runtime/sample/write.js';
import { assembleBatch } from '../../runtime/train/batches.js';
import { STREAM, tfSeed } from '../../runtime/train/rng.js';
import { compileTiny, referenceGed, tempDir, testRegistry, tinyDataset, tinySpec, useCpu } from './helpers.js';

beforeAll(useCpu);

/** Wraps a block method to count its calls. */
function countCalls(block: unknown, method: string): { count: number } {
  const counter = { count: 0 };
  const b = block as Record<string, (...a: unknown[]) => unknown>;
  const original = b[method]!.bind(b);
  b[method] = (...args: unknown[]) => {
    counter.count++;
    return original(...args);
  };
  return counter;
}

describe('prior sampling', () => {
  it('runs the U-Net and the prior once and the combiner once for all 16 samples, leaking nothing', async () => {
    const spec = tinySpec();
    const registry = testRegistry();
    const { compiled, model, dispose } = compileTiny(spec, registry);
    const unet = countCalls(compiled.blocks.unet, 'features');
    const prior = countCalls(compiled.blocks.prior, 'encode');
    const posterior = countCalls(compiled.blocks.posterior, 'encode');
    const combine = countCalls(compiled.blocks.combiner, 'combine');
    const dataset = tinyDataset();
    const batch = assembleBatch(dataset, [8, 9]);
    const before = tf.memory().numTensors;
    const out = await samplePrior(model.segmenter, batch.images, batch.shape, 16, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect(unet.count).toBe(1);
    expect(prior.count).toBe(1);
    expect(posterior.count).toBe(0); // never the posterior at test time
    expect(combine.count).toBe(1);
    expect(out).toHaveLength(2);
    for (const image of out) {
      expect(image.masks).toHaveLength(16);
      expect(image.foreground).toHaveLength(16);
      for (const m of image.masks) expect(m.length).toBe(256);
      for (const f of image.foreground) for (const p of f) expect(p >= 0 && p <= 1).toBe(true);
      // a hard mask is foreground exactly where the soft foreground probability is above 1/2 (K = 2)
      image.masks.forEach((m, s) => m.forEach((v, i) => {
        const p = image.foreground[s]![i]!;
        if (Math.abs(p - 0.5) > 1e-6) expect(v).toBe(p > 0.5 ? 1 : 0);
      }));
    }
    dispose();
  });

  it('sampleItems prepares each batch once for all blocks, drawing the same samples as one prepare per block', async () => {
    const { compiled, model, dispose } = compileTiny(tinySpec(), testRegistry());
    const unet = countCalls(compiled.blocks.unet, 'features');
    const prior = countCalls(compiled.blocks.prior, 'encode');
    const combine = countCalls(compiled.blocks.combiner, 'combine');
    const dataset = tinyDataset();
    const before = tf.memory().numTensors;
    const n = 2 * SAMPLE_BLOCK + 3; // two whole blocks and part of a third
    const got = await sampleItems(model.segmenter, dataset, [8, 9], n, { seed: 4, stream: STREAM.evaluation, batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(unet.count).toBe(1);
    expect(prior.count).toBe(1);
    expect(combine.count).toBe(3);
    // the same draws, each block from its own prepare with the seed sampleItems documents
    const batch = assembleBatch(dataset, [8, 9]);
    const blocks = [];
    for (let block = 0; block < 3; block++) {
      const seed = block === 0 ? tfSeed(4, STREAM.evaluation, 0) : tfSeed(4, STREAM.evaluation, 0, block);
      blocks.push(await samplePrior(model.segmenter, batch.images, batch.shape, SAMPLE_BLOCK, seed));
    }
    for (const b of [0, 1]) {
      const expected = blocks.flatMap((drawn) => drawn[b]!.foreground).slice(0, n);
      expect(got[b]!.foreground.map((f) => Array.from(f))).toEqual(expected.map((f) => Array.from(f)));
      expect(got[b]!.masks.map((m) => Array.from(m))).toEqual(blocks.flatMap((drawn) => drawn[b]!.masks).slice(0, n).map((m) => Array.from(m)));
    }
    dispose();
  });

  it('is reproducible in its seed', async () => {
    const spec = tinySpec();
    const { model, dispose } = compileTiny(spec, testRegistry());
    const batch = assembleBatch(tinyDataset(), [8]);
    const a = await samplePrior(model.segmenter, batch.images, batch.shape, 4, 9);
    const b = await samplePrior(model.segmenter, batch.images, batch.shape, 4, 9);
    expect(b[0]!.foreground.map((f) => Array.from(f))).toEqual(a[0]!.foreground.map((f) => Array.from(f)));
    dispose();
  });

  it('foreground frequency: per-pixel fraction of samples that are foreground', () => {
    const masks = [Uint8Array.from([1, 0, 1, 0]), Uint8Array.from([1, 0, 0, 0]), Uint8Array.from([1, 1, 0, 0])];
    expect(Array.from(foregroundFrequency(masks))).toEqual([1, 1 / 3, 1 / 3, 0].map(Math.fround));
  });
});

describe('evaluation bookkeeping', () => {
  it('averages per-image GED over the split, using the first n of the drawn samples for each count', async () => {
    const spec = tinySpec();
    spec.eval = { ...spec.eval, metrics: ['ged'], samples: [1, 4] };
    const registry = testRegistry();
    const { model, dispose } = compileTiny(spec, registry);
    const dataset = tinyDataset();
    const report = await evaluateSplit(model.segmenter, dataset, spec, registry, { split: 'test', sampleCounts: [4, 1], seed: 2, batchSize: 1 });
    // the same draws, scored here with the definition of GED
    const samples = await sampleItems(model.segmenter, dataset, dataset.splits.test, 4, { seed: 2, stream: STREAM.evaluation, batchSize: 1 });
    for (const n of [1, 4]) {
      const expected =
        dataset.splits.test.reduce((s, item, k) => s + referenceGed(samples[k]!.masks.slice(0, n), dataset.items[item]!.annotations), 0) /
        dataset.splits.test.length;
      expect(report.results[String(n)]!.ged!.mean).toBeCloseTo(expected, 10);
      expect(report.results[String(n)]!.ged!.images).toBe(2);
    }
    expect(report.sampleCounts).toEqual([1, 4]);
    dispose();
  });
});

describe('sample images', () => {
  it('writes image, annotations, samples and frequency map per image', () => {
    const dir = tempDir();
    const image = Float32Array.from([0, 0.5, 1, 0.25]);
    const samples = [Uint8Array.from([1, 0, 1, 0]), Uint8Array.from([1, 1, 0, 0])];
    const files = writeSampleImages(dir, [{ id: 'a/b', image, annotations: [Uint8Array.from([0, 0, 1, 1])], samples }], { height: 2, width: 2, channels: 1, classes: 2 });
    expect(readdirSync(dir).sort()).toEqual(['a_b-annotation-0.png', 'a_b-frequency.png', 'a_b-image.png', 'a_b-sample-00.png', 'a_b-sample-01.png']);
    expect(files).toHaveLength(5);
    expect(Array.from(readPng(join(dir, 'a_b-image.png')).data)).toEqual([0, 128, 255, 64]);
    expect(Array.from(readPng(join(dir, 'a_b-annotation-0.png')).data)).toEqual([0, 0, 255, 255]);
    expect(Array.from(readPng(join(dir, 'a_b-frequency.png')).data)).toEqual([255, 128, 128, 0]);
  });
});
