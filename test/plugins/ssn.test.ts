/**
 * Stochastic Segmentation Networks (plugins/ssn): the logit distribution's covariance against
 * P P^T + D computed here in plain JS, the Monte-Carlo loss against a naive loop, gradients to
 * every variable, a short training run, seeded sampling, the example spec, and no leaks.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { ResolvedSpec } from '../../compiler/api.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { loadSpec } from '../../spec/index.js';
import { squareBatch, tinyFlatSpec } from './helpers.js';

const registry = createRegistry();
const SIZE = 16;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The tiny flat spec with the SSN architecture: U-Net widths [4, 8], rank 3, S = 8. */
function tinySsnSpec(size = SIZE): ResolvedSpec {
  const spec = tinyFlatSpec();
  spec.input.size = [size, size];
  delete spec.prior;
  delete spec.posterior;
  delete spec.latent;
  return {
    ...spec,
    model: 'tiny-ssn',
    architecture: { kind: 'ssn', samples: 8 },
    combiner: { kind: 'ssn-head', rank: 3 },
    loss: { ...spec.loss, reconstruction: { kind: 'ssn-mc' } },
  };
}

/** The MC loss in plain JS: -mean_b log (1/S) sum_s prod_i softmax(l[b][s][i])[y[b][i]]. */
function naiveLoss(logits: number[][][][], labels: number[][]): number {
  let total = 0;
  for (const [b, samples] of logits.entries()) {
    const likelihoods = samples.map((pixels) =>
      pixels.reduce((p, l, i) => p * Math.exp(l[labels[b]![i]!]!) / l.reduce((z, v) => z + Math.exp(v), 0), 1),
    );
    total -= Math.log(likelihoods.reduce((a, c) => a + c, 0) / samples.length);
  }
  return total / logits.length;
}

describe('ssn plugin', () => {
  it('samples logit maps whose covariance is P P^T + D (from the head\'s own parameters)', async () => {
    const size = 8; // 128 logits: the sample count, not the image, decides the precision
    const model = compileModel(tinySsnSpec(size), registry, { seed: 3 });
    // Head bias: channels are [mean K, log-diagonal K, factor K*r]; a factor of ~0.8 makes the
    // correlations as large as the variances, so dropping P (or mis-shaping it) shows.
    const r0 = 3;
    const bias = model.variable('combiner/bias')!;
    bias.assign(tf.tensor1d([0, 0, -1, -1, ...Array.from({ length: 2 * r0 }, (_, i) => 0.8 * (i % 2 ? -1 : 1))]));
    const { images } = squareBatch(tf, 1, size);
    const prepared = model.segmenter.prepare(images);
    const { mu, log_diag, factor } = prepared.prior.params;
    const [m, d, p] = await Promise.all([mu!.data(), log_diag!.data(), factor!.data()]);
    const r = factor!.shape[4]!;
    const n = 4000;
    const samples = model.segmenter.sample(prepared, n, { seed: 11 });
    const x = await samples.data();
    const event = size * size * 2;
    // A few logits: same pixel (both classes), neighbours, far apart.
    const picked = [0, 1, 2, 2 * (size + 1), 2 * (size + 1) + 1, event - 1];
    const expectedCov = (i: number, j: number) => {
      let c = i === j ? Math.exp(d[i]!) : 0;
      for (let k = 0; k < r; k++) c += p[i * r + k]! * p[j * r + k]!;
      return c;
    };
    const means = picked.map((i) => {
      let s = 0;
      for (let t = 0; t < n; t++) s += x[t * event + i]!;
      return s / n;
    });
    for (const [a, i] of picked.entries()) {
      // The mean within 5 standard errors.
      expect(Math.abs(means[a]! - m[i]!)).toBeLessThan(5 * Math.sqrt(expectedCov(i, i) / n));
      for (const [b, j] of picked.entries()) {
        let s = 0;
        for (let t = 0; t < n; t++) s += (x[t * event + i]! - means[a]!) * (x[t * event + j]! - means[b]!);
        const expected = expectedCov(i, j);
        // Standard error of a Gaussian sample covariance: sqrt((S_ii S_jj + S_ij^2) / n).
        const se = Math.sqrt((expectedCov(i, i) * expectedCov(j, j) + expected ** 2) / n);
        expect(Math.abs(s / (n - 1) - expected)).toBeLessThan(5 * se);
      }
    }
    // Some off-diagonal covariances (carried by the factor alone) are large enough that a
    // sampler without the factor would have failed the comparison above.
    const detectable = picked.flatMap((i) => picked.filter((j) => j > i && Math.abs(expectedCov(i, j)) > 10 * Math.sqrt((expectedCov(i, i) * expectedCov(j, j)) / n)));
    expect(detectable.length).toBeGreaterThan(0);
    tf.dispose([samples, images]);
    prepared.dispose();
    model.dispose();
  });

  it('the Monte-Carlo log-sum-exp loss equals a naive loop', () => {
    const loss = registry.get('losses', 'ssn-mc')!.contribution;
    // B = 2 images of 1x3 pixels, S = 3 samples, K = 2 classes.
    const logits = [
      [[[0.5, -1], [2, 0], [0, 0]], [[1, 1], [-2, 3], [0.3, 0.1]], [[0, 4], [1, -1], [-1, 2]]],
      [[[3, 0], [0, 0.2], [1, 2]], [[-1, 0], [0.5, 0.5], [2, -2]], [[0, 0], [0, 0], [0, 0]]],
    ];
    const labels = [[0, 1, 1], [0, 0, 1]];
    const value = tf.tidy(() =>
      loss.compute({ tf, options: {}, logits: tf.tensor(logits).reshape([2, 3, 1, 3, 2]), labels: tf.tensor3d([labels[0]!, labels[1]!].map((l) => [l]), undefined, 'int32') }).dataSync()[0]!,
    );
    expect(value).toBeCloseTo(naiveLoss(logits, labels), 4);
    // One sample: plain cross-entropy summed per image.
    const one = tf.tidy(() => loss.compute({ tf, options: {}, logits: tf.tensor(logits).slice([0, 0], [2, 1]).reshape([2, 1, 1, 3, 2]), labels: tf.tensor3d(labels.map((l) => [l]), undefined, 'int32') }).dataSync()[0]!);
    const ce = registry.get('losses', 'cross-entropy')!.contribution;
    const ceValue = tf.tidy(() => ce.compute({ tf, options: { reduction: 'sum-per-image' }, logits: tf.tensor(logits).slice([0, 0], [2, 1]).reshape([2, 1, 3, 2]), labels: tf.tensor3d(labels.map((l) => [l]), undefined, 'int32') }).dataSync()[0]!);
    expect(one).toBeCloseTo(ceValue, 4);
    // A per-image loss under the ssn architecture is refused when compiling.
    const spec = tinySsnSpec();
    spec.loss.reconstruction = { kind: 'cross-entropy', reduction: 'sum-per-image' };
    expect(() => compileModel(spec, registry)).toThrow(/loss must average over them: write `reconstruction ssn-mc` \(got 'cross-entropy'\)/);
    // Logits without a sample axis (another architecture) are refused with a clear message.
    expect(() => loss.compute({ tf, options: {}, logits: tf.zeros([2, 1, 3, 2]), labels: tf.zeros([2, 1, 3], 'int32') })).toThrow(/\[B, S, H, W, K\].*architecture ssn/);
  });

  it('sends gradient to every variable (U-Net and head) and a few steps lower the loss', async () => {
    const spec = tinySsnSpec();
    spec.train.optimizer = { kind: 'adam', lr: 1e-2 }; // as examples/ssn-tiny.punet
    const model = compileModel(spec, registry, { seed: 5 });
    const training = compileTraining(spec, registry);
    const { images, masks } = squareBatch(tf, 2, SIZE);
    const state = training.initialObjectiveState();
    const names = model.variables.map((v) => v.name);
    expect(names.some((n) => n.startsWith('unet/'))).toBe(true);
    expect(names).toContain('combiner/kernel');
    const norms = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => training.lossTerms(model, images, masks, 7, state).loss, model.variables.map((v) => v.variable));
      return names.map((name) => tf.norm(grads[model.variable(name)!.name]!).dataSync()[0]!);
    });
    for (const [i, name] of names.entries()) expect(norms[i], name).toBeGreaterThan(0);

    const lossAt = () => tf.tidy(() => training.lossTerms(model, images, masks, 99, state).reconstruction.dataSync()[0]!);
    const before = lossAt();
    const handle = training.createOptimizer();
    const tensors = tf.memory().numTensors;
    for (let step = 0; step < 15; step++) await trainStep(model, training, handle, { images, masks, seed: 100 + step, step, state });
    // Adam keeps two moments per variable, created at the first step; nothing else may remain.
    expect(tf.memory().numTensors - tensors).toBe(2); // flat Adam: one m and one v vector for all variables
    expect(lossAt()).toBeLessThan(0.7 * before);
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
  });

  it('seeded sampling reproduces; prepare/sample/decode leave no tensors behind', () => {
    const build = () => compileModel(tinySsnSpec(), registry, { seed: 9 });
    const a = build();
    const b = build();
    const { images } = squareBatch(tf, 2, SIZE);
    const before = tf.memory().numTensors;
    const draw = (model: typeof a, seed: number, mode?: 'mean') => {
      const prepared = model.segmenter.prepare(images);
      const logits = model.segmenter.sample(prepared, 3, { seed, perScale: mode ? [mode] : undefined });
      const decoded = model.segmenter.decode(prepared, logits);
      const values = logits.dataSync().slice();
      expect(decoded.dataSync()).toEqual(values); // the latent is the logit map
      expect(logits.shape).toEqual([2, 3, SIZE, SIZE, 2]);
      tf.dispose([logits, decoded]);
      prepared.dispose();
      return values;
    };
    const first = draw(a, 4);
    expect(draw(a, 4)).toEqual(first);
    expect(draw(b, 4)).toEqual(first); // same weights from the same seed
    expect(draw(a, 5)).not.toEqual(first);
    const mean = draw(a, 4, 'mean');
    expect(mean.slice(0, SIZE * SIZE * 2)).toEqual(mean.slice(SIZE * SIZE * 2, 2 * SIZE * SIZE * 2)); // the mean: no noise
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    b.dispose();
    images.dispose();
  });

  it('examples/ssn-tiny.punet resolves: prob-unet-tiny with the ssn architecture, head and loss', async () => {
    const file = path.join(import.meta.dirname, '../../examples/ssn-tiny.punet');
    const r = await loadSpec(file, { registry });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const s = r.spec!;
    expect(s.architecture).toEqual({ kind: 'ssn', samples: 20 });
    expect(s.combiner).toEqual({ kind: 'ssn-head', rank: 10, diagonal_floor: 1e-5 });
    expect(s.loss.reconstruction).toEqual({ kind: 'ssn-mc' });
    expect([s.prior, s.posterior, s.latent]).toEqual([undefined, undefined, undefined]);
    expect(s.unet).toMatchObject({ kind: 'unet', widths: [8, 16, 32], convs_per_block: 2 });
    expect(s.train).toMatchObject({ steps: 1000, batch_size: 8, seed: 42 });
  });
});
