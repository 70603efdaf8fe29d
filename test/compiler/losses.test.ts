import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createRegistry } from '../../plugins/index.js';
import { diagGaussian, diagGaussianFromHead } from '../../plugins/toolkit/distributions.js';
import type { LossContribution, KLContribution, RegularizerContribution, ObjectiveContribution } from '../../compiler/api.js';

const registry = createRegistry();
const ce = registry.get('losses', 'cross-entropy')!.contribution as LossContribution;
const kl = registry.get('klEstimators', 'analytic')!.contribution as KLContribution;
const l2 = registry.get('regularizers', 'l2')!.contribution as RegularizerContribution;
const weighted = registry.get('objectives', 'weighted')!.contribution as ObjectiveContribution;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('cross-entropy', () => {
  // Image 0: pixel (logits 0, 0; label 0) -> ln 2, pixel (ln 3, 0; label 1) -> ln 4.
  // Image 1: pixel (2, 0; label 1) -> ln(1 + e^2), pixel (0, 2; label 1) -> ln(1 + e^-2).
  const logits = () => tf.tensor4d([0, 0, Math.log(3), 0, 2, 0, 0, 2], [2, 1, 2, 2]);
  const labels = () => tf.tensor3d([0, 1, 1, 1], [2, 1, 2], 'int32');
  const image0 = Math.log(2) + Math.log(4);
  const image1 = Math.log(1 + Math.exp(2)) + Math.log(1 + Math.exp(-2));

  it('sum-per-image sums pixels and averages images', () => {
    const v = tf.tidy(() => ce.compute({ tf, options: { reduction: 'sum-per-image' }, logits: logits(), labels: labels() }).dataSync()[0]);
    expect(v).toBeCloseTo((image0 + image1) / 2, 5);
  });

  it('mean averages every pixel', () => {
    const v = tf.tidy(() => ce.compute({ tf, options: { reduction: 'mean' }, logits: logits(), labels: labels() }).dataSync()[0]);
    expect(v).toBeCloseTo((image0 + image1) / 4, 5);
  });
});

describe('analytic KL', () => {
  const klOf = (q: [number[], number[]], p: [number[], number[]]) =>
    tf.tidy(() => {
      const dq = diagGaussian(tf, tf.tensor2d(q[0], [1, q[0].length]), tf.tensor2d(q[1], [1, q[1].length]));
      const dp = diagGaussian(tf, tf.tensor2d(p[0], [1, p[0].length]), tf.tensor2d(p[1], [1, p[1].length]));
      return kl.compute({ tf, options: {}, latents: [{ posterior: dq, prior: dp }], seed: 0 }).dataSync()[0]!;
    });

  it('matches hand-computed values', () => {
    // dim 0: q = N(1, 1), p = N(0, 1): (1 + 1) / 2 - 1/2 = 1/2.
    // dim 1: q = N(0, 1), p = N(0, e^2): 1 + 1 / (2 e^2) - 1/2.
    const expected = 0.5 + (1 + 1 / (2 * Math.exp(2)) - 0.5);
    expect(klOf([[1, 0], [0, 0]], [[0, 0], [0, 1]])).toBeCloseTo(expected, 5);
  });

  it('is zero for identical distributions and positive otherwise', () => {
    expect(klOf([[0.3, -2, 5], [0.1, -1, 2]], [[0.3, -2, 5], [0.1, -1, 2]])).toBeCloseTo(0, 6);
    expect(klOf([[0.3, -2, 5], [0.1, -1, 2]], [[0.2, -2, 5], [0.1, -1, 2]])).toBeGreaterThan(0);
  });

  it('sums dims and scales, averages the batch', () => {
    const v = tf.tidy(() => {
      // Batch of 2: image 0 has mu_q - mu_p = 2 in one dim (KL 2), image 1 nothing (KL 0).
      const q = diagGaussian(tf, tf.tensor2d([2, 0, 0, 0], [2, 2]), tf.zeros([2, 2]));
      const p = diagGaussian(tf, tf.zeros([2, 2]), tf.zeros([2, 2]));
      const latents = [
        { posterior: q, prior: p },
        { posterior: q, prior: p },
      ];
      return kl.compute({ tf, options: {}, latents, seed: 0 }).dataSync()[0]!;
    });
    // Two scales of (2 + 0) / 2 each.
    expect(v).toBeCloseTo(2, 5);
  });
});

describe('bounded log sigma', () => {
  it('keeps sigma finite for huge head outputs and is the identity near 0', () => {
    const [ls, sample] = tf.tidy(() => {
      const d = diagGaussianFromHead(tf, tf.tensor2d([0, 0, 1e4, 1e-3], [1, 4]), 2, 10);
      return [d.params.log_sigma!.dataSync(), d.sample(3, 1).dataSync()];
    });
    expect(ls[0]).toBeCloseTo(10, 4);
    expect(ls[0]).toBeLessThanOrEqual(10);
    expect(ls[1]).toBeCloseTo(1e-3, 8);
    expect([...sample!].every(Number.isFinite)).toBe(true);
  });
});

describe('l2 and weighted objective', () => {
  it('l2 = scale * sum(w^2) / 2', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor2d([3, -1], [1, 2]));
    const v = tf.tidy(() => l2.compute({ tf, options: { scale: 0.1 }, weights: [a, b] }).dataSync()[0]);
    expect(v).toBeCloseTo((0.1 * (1 + 4 + 9 + 1)) / 2, 6);
    tf.dispose([a, b]);
  });

  it("l2's gradient is scale * w for every weight (its own, written out), times the upstream gradient", () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor2d([3, -1, 0.5], [1, 3]));
    const start = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.mul(l2.compute({ tf, options: { scale: 0.1 }, weights: [a, b] }), 3) as tf.Scalar, [a, b]);
    expect(value.dataSync()[0]).toBeCloseTo((3 * 0.1 * (1 + 4 + 9 + 1 + 0.25)) / 2, 6);
    const close = (t: tf.Tensor, expected: number[]) => Array.from(t.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 6));
    close(grads[a.name]!, [0.3, 0.6]);
    close(grads[b.name]!, [0.9, -0.3, 0.15]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose([a, b]);
  });

  it('weighted = rec + beta * KL', () => {
    const v = tf.tidy(() =>
      weighted.combine({ tf, options: { beta: 2.5, warmup_steps: 0 }, reconstruction: tf.scalar(3), kl: tf.scalar(4), pixelsPerImage: 1, state: {} }).loss.dataSync()[0],
    );
    expect(v).toBeCloseTo(13, 6);
  });
});
