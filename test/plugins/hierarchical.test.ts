/**
 * The hierarchical Probabilistic U-Net plugin, compiled through the registry at a tiny size
 * (32x32, 4 levels, 3 latent scales at 4x4, 8x8, 16x16): shapes, teacher forcing, per-scale
 * sampling, KL = sum of per-scale analytic KLs (checked in plain JS), training, no leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import type { Distribution, ResolvedSpec, Tensor } from '../../compiler/api.js';
import { mixSeed } from '../../plugins/hierarchical/distribution.js';
import { registryWithHierarchical, squareBatch, tinyHierarchicalSpec } from './helpers.js';

let model: CompiledModel;
let images: Tensor;
let masks: Tensor;
const registry = registryWithHierarchical();

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = compileModel(tinyHierarchicalSpec(), registry, { seed: 7 });
  ({ images, masks } = squareBatch(tf, 2, 32));
});

afterAll(() => {
  model.dispose();
  tf.dispose([images, masks]);
});

/** Per-item KL(q || p) of diagonal Gaussians in plain JS, summed over every event element. */
function klPerItemJs(q: Distribution, p: Distribution): number[] {
  const [mq, lq, mp, lp] = [q.params.mu!, q.params.log_sigma!, p.params.mu!, p.params.log_sigma!].map((t) => t.dataSync());
  const batch = q.params.mu!.shape[0]!;
  const per = mq!.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let sum = 0;
    for (let i = b * per; i < (b + 1) * per; i++) {
      const sq = Math.exp(lq![i]!);
      const sp = Math.exp(lp![i]!);
      sum += lp![i]! - lq![i]! + (sq * sq + (mq![i]! - mp![i]!) ** 2) / (2 * sp * sp) - 0.5;
    }
    out.push(sum);
  }
  return out;
}

describe('hierarchical architecture', () => {
  it('builds every role through the registry and reports parameters per block', () => {
    const kinds = Object.fromEntries(model.summary.map((b) => [b.role, [b.kind, b.plugin]]));
    expect(kinds).toEqual({
      unet: ['resnet-unet', 'punet-hierarchical'],
      prior: ['hierarchical-prior', 'punet-hierarchical'],
      posterior: ['hierarchical-posterior', 'punet-hierarchical'],
      latent: ['hierarchical-gaussian', 'punet-hierarchical'],
      combiner: ['logits-head', 'punet-hierarchical'],
    });
    // Prior heads: one 1x1 conv per scale from the U-Net width at that level (8, 8, 8) to 2 channels.
    const prior = model.summary.find((b) => b.role === 'prior')!;
    expect(prior.parameters).toBe(3 * (8 * 2 + 2));
    // Logits head: 1x1 conv from widths[0] = 4 to 2 classes.
    expect(model.summary.find((b) => b.role === 'combiner')!.parameters).toBe(4 * 2 + 2);
  });

  it('trainForward gives [B,H,W,K] logits and one (posterior, prior) pair per scale, coarse to fine', () => {
    const shapes = tf.tidy(() => {
      const f = model.segmenter.trainForward(images, masks, 3);
      return { logits: f.logits.shape, latents: f.latents.map((l) => [l.posterior.eventShape, l.prior.eventShape, l.posterior.family]) };
    });
    expect(shapes.logits).toEqual([2, 32, 32, 2]);
    expect(shapes.latents).toEqual([
      [[4, 4, 1], [4, 4, 1], 'diag-gaussian'],
      [[8, 8, 1], [8, 8, 1], 'diag-gaussian'],
      [[16, 16, 1], [16, 16, 1], 'diag-gaussian'],
    ]);
  });

  it("teacher forcing: the logits are the prior decoder's output for the posterior's latents", () => {
    const prepared = model.segmenter.prepare(images);
    const [fromTraining, fromDecode, firstPriorTrain, firstPriorPrepared] = tf.tidy(() => {
      const f = model.segmenter.trainForward(images, masks, 11);
      // The posterior samples trainForward drew (same seeds), flattened coarse to fine.
      const z = tf.concat(
        f.latents.map((l, s) => tf.reshape(l.posterior.sample(1, mixSeed(11, s)), [2, -1])),
        1,
      );
      const decoded = model.segmenter.decode(prepared, tf.expandDims(z, 1));
      const size = 4 * 4;
      return [f.logits, tf.squeeze(decoded, [1]), f.latents[0]!.prior.params.mu!, tf.slice(prepared.prior.params.mu!, [0, 0], [2, size])];
    });
    expect(maxAbsDiff(fromTraining!, fromDecode!)).toBeLessThan(1e-4);
    // The coarsest prior depends on x only: the same in training and at test time.
    expect(maxAbsDiff(tf.reshape(firstPriorTrain!, [2, -1]), firstPriorPrepared!)).toBeLessThan(1e-5);
    tf.dispose([fromTraining!, fromDecode!, firstPriorTrain!, firstPriorPrepared!]);
    prepared.dispose();
  });

  it('samples [B,n,H,W,K], reproducibly; decode(prior.sample) equals sample with the same seed', () => {
    const prepared = model.segmenter.prepare(images);
    const a = model.segmenter.sample(prepared, 3, { seed: 5 });
    const b = model.segmenter.sample(prepared, 3, { seed: 5 });
    const c = model.segmenter.sample(prepared, 3, { seed: 6 });
    const z = prepared.prior.sample(3, 5);
    const d = model.segmenter.decode(prepared, z);
    expect(a.shape).toEqual([2, 3, 32, 32, 2]);
    expect(z.shape).toEqual([2, 3, 4 * 4 + 8 * 8 + 16 * 16]);
    expect(prepared.prior.params.mu!.shape).toEqual([2, 336]);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-6);
    expect(maxAbsDiff(a, d)).toBeLessThan(1e-4);
    tf.dispose([a, b, c, z, d]);
    prepared.dispose();
  });

  it('perScale: all-mean samples are identical across seeds; sampling only the coarsest scale varies them', () => {
    const prepared = model.segmenter.prepare(images);
    const mean1 = model.segmenter.sample(prepared, 2, { seed: 1, perScale: ['mean', 'mean', 'mean'] });
    const mean2 = model.segmenter.sample(prepared, 2, { seed: 2, perScale: ['mean', 'mean', 'mean'] });
    const globalOnly = model.segmenter.sample(prepared, 2, { seed: 1, perScale: ['sample', 'mean', 'mean'] });
    const meanPath = model.segmenter.decode(prepared, tf.expandDims(prepared.prior.mean(), 1));
    expect(maxAbsDiff(mean1, mean2)).toBe(0);
    expect(maxAbsDiff(tf.slice(mean1, [0, 0], [2, 1]), meanPath)).toBeLessThan(1e-4);
    expect(maxAbsDiff(globalOnly, mean1)).toBeGreaterThan(1e-6);
    // One entry applies to every scale (the prior-mean baseline asks for ['mean']); other lengths are errors.
    const meanShort = model.segmenter.sample(prepared, 2, { seed: 3, perScale: ['mean'] });
    expect(maxAbsDiff(meanShort, mean1)).toBe(0);
    expect(() => model.segmenter.sample(prepared, 1, { seed: 1, perScale: ['mean', 'sample'] })).toThrow(/once or for each of the 3 latent scales/);
    tf.dispose([mean1, mean2, globalOnly, meanPath, meanShort]);
    prepared.dispose();
  });

  it('KL with the built-in analytic estimator = sum over scales of per-pixel KL, summed over H, W, mean over batch', () => {
    const analytic = registry.get('klEstimators', 'analytic')!.contribution;
    const { estimator, byHand, perScale } = tf.tidy(() => {
      const f = model.segmenter.trainForward(images, masks, 21);
      const perScale = f.latents.map((l) => klPerItemJs(l.posterior, l.prior));
      const batch = perScale[0]!.length;
      let total = 0;
      for (const scale of perScale) total += scale.reduce((a, b) => a + b, 0) / batch;
      const value = analytic.compute({ tf, options: {}, latents: f.latents, seed: 0 }).dataSync()[0]!;
      return { estimator: value, byHand: total, perScale };
    });
    expect(perScale).toHaveLength(3);
    // Every scale contributes (a non-trivial check: a missing scale would change the sum).
    for (const scale of perScale) expect(Math.abs(scale[0]!)).toBeGreaterThan(1e-6);
    expect(estimator).toBeCloseTo(byHand, 3);
  });

  it('a few training steps on a fixed batch reduce the loss, with no tensor leaks', async () => {
    // 16x16, 3 levels, 2 scales: the cpu backend's conv filter gradient is slow at 32x32.
    const base = tinyHierarchicalSpec();
    const spec: ResolvedSpec = {
      ...base,
      input: { size: [16, 16], channels: 1, classes: 2 },
      unet: { kind: 'resnet-unet', widths: [4, 8, 8], blocks_per_level: 1, convs_per_block: 2 },
      latent: { kind: 'hierarchical-gaussian', scales: 2 },
      train: { ...base.train, optimizer: { kind: 'adam', lr: 3e-3 } },
    };
    const { images, masks } = squareBatch(tf, 2, 16);
    const m = compileModel(spec, registry, { seed: 3 });
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    let state = training.initialObjectiveState();
    // Fixed seed: the same posterior noise every step, so the loss curve is not noise.
    const step = async (i: number) => {
      const r = await trainStep(m, training, handle, { images, masks, seed: 99, step: i, state });
      state = training.nextObjectiveState(state, { reconstruction: r.reconstruction, kl: r.kl, pixelsPerImage: 16 * 16 });
      return r.loss;
    };
    const first = await step(0);
    const before = tf.memory().numTensors;
    let last = first;
    const t0 = performance.now();
    for (let i = 1; i < 8; i++) last = await step(i);
    console.log(`hierarchical 16x16 train step: ${((performance.now() - t0) / 7).toFixed(0)} ms; loss ${first.toFixed(1)} -> ${last.toFixed(1)}`);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first * 0.9);
    handle.optimizer.dispose();
    m.dispose();
    tf.dispose([images, masks]);
  });

  it('prepare/sample/decode/trainForward leave no tensors behind', () => {
    const before = tf.memory().numTensors;
    const prepared = model.segmenter.prepare(images);
    tf.dispose(model.segmenter.sample(prepared, 2, { seed: 1 }));
    const z = prepared.prior.sample(2, 3);
    tf.dispose([model.segmenter.decode(prepared, z), z]);
    tf.tidy(() => {
      model.segmenter.trainForward(images, masks, 1);
    });
    prepared.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a spec whose scales do not fit the U-Net levels fails with a message naming the fix', () => {
    const spec = tinyHierarchicalSpec();
    spec.latent = { kind: 'hierarchical-gaussian', scales: 4 };
    expect(() => compileModel(spec, registry)).toThrow(/latent.scales = 4 needs at least 5 U-Net levels/);
  });
});

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('hierarchical blocks for punet inspect', () => {
  it('report their output shapes', () => {
    const shapes = Object.fromEntries(model.summary.map((b) => [b.role, b.outputShapes]));
    expect(shapes.unet).toEqual({ level0: [32, 32, 4], level1: [16, 16, 8], level2: [8, 8, 8], level3: [4, 4, 8] });
    expect(shapes.prior).toEqual({ z0: [4, 4, 1], z1: [8, 8, 1], z2: [16, 16, 1] });
    expect(shapes.combiner).toEqual({ logits: [32, 32, 2] });
  });
});
