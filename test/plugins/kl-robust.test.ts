/**
 * KL warm-up (objective weighted { warmup_steps }) and free bits (kl analytic { free_bits }),
 * checked against the Gaussian KL and its gradient written out by hand in plain JS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import losses, { klWeight } from '../../plugins/builtin/losses.js';
import { diagGaussian } from '../../plugins/toolkit/distributions.js';
import type { Distribution, Scalar, Tensor } from '../../compiler/api.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const analytic = losses.klEstimators.analytic;
const weighted = losses.objectives.weighted;

/** KL(N(mq, sq^2) || N(mp, sp^2)) of one dimension, from the textbook formula. */
const kl1 = (mq: number, lq: number, mp: number, lp: number) =>
  lp - lq + (Math.exp(2 * lq) + (mq - mp) ** 2) / (2 * Math.exp(2 * lp)) - 0.5;

function gaussian(mu: Tensor, logSigma: Tensor): Distribution {
  return diagGaussian(tf, mu, logSigma);
}

// Batch of 2, 3 latent dims: dim 0 carries a lot, dim 1 a little, dim 2 almost nothing.
const muQ = [
  [2.0, 0.1, 0.0],
  [-1.0, 0.2, 0.01],
];
const logSigmaQ = [
  [-0.5, 0.0, 0.0],
  [-0.2, -0.1, 0.0],
];
const muP = [0.5, 0.0, 0.0];
const logSigmaP = [0.1, 0.0, 0.0];

/** Per-dimension batch-mean KL from the formula. */
const meanKL = [0, 1, 2].map((d) => (kl1(muQ[0]![d]!, logSigmaQ[0]![d]!, muP[d]!, logSigmaP[d]!) + kl1(muQ[1]![d]!, logSigmaQ[1]![d]!, muP[d]!, logSigmaP[d]!)) / 2);
/** d KL_d / d muQ[b][d] = (muQ - muP) / sigmaP^2; the batch mean divides by 2. */
const gradMu = (b: number, d: number) => (muQ[b]![d]! - muP[d]!) / Math.exp(2 * logSigmaP[d]!) / 2;

function klAndGrad(freeBits: number): { value: number; grad: number[][] } {
  const q = tf.tidy(() => tf.variable(tf.tensor2d(muQ))); // tidy frees the initial value
  const { value, grads } = tf.variableGrads(() => {
    const latents = [{ posterior: gaussian(q, tf.tensor2d(logSigmaQ)), prior: gaussian(tf.tensor2d([muP, muP]), tf.tensor2d([logSigmaP, logSigmaP])) }];
    return analytic.compute({ tf, options: { free_bits: freeBits }, latents, seed: 0 }) as Scalar;
  }, [q]);
  const out = { value: value.dataSync()[0]!, grad: (grads[q.name] as Tensor).arraySync() as number[][] };
  tf.dispose([value, grads[q.name]!, q]);
  return out;
}

describe('free bits', () => {
  it('off: the value is the summed KL and every dimension gets its gradient', () => {
    const { value, grad } = klAndGrad(0);
    expect(value).toBeCloseTo(meanKL.reduce((a, b) => a + b), 5);
    for (const b of [0, 1]) for (const d of [0, 1, 2]) expect(grad[b]![d]!).toBeCloseTo(gradMu(b, d), 5);
  });

  it('on: the value stays the true KL; dimensions under the threshold get no gradient, the others theirs', () => {
    const threshold = 0.05;
    // The fixture straddles the threshold: dim 0 above, dims 1 and 2 below.
    expect(meanKL[0]!).toBeGreaterThan(threshold);
    expect(meanKL[1]!).toBeLessThan(threshold);
    expect(meanKL[2]!).toBeLessThan(threshold);
    const { value, grad } = klAndGrad(threshold);
    expect(value).toBeCloseTo(meanKL.reduce((a, b) => a + b), 5);
    for (const b of [0, 1]) {
      expect(grad[b]![0]!).toBeCloseTo(gradMu(b, 0), 5);
      expect(grad[b]![1]!).toBe(0);
      expect(grad[b]![2]!).toBe(0);
    }
  });

  it('leaves no tensors behind', () => {
    klAndGrad(0.05);
    const before = tf.memory().numTensors;
    klAndGrad(0.05);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('KL warm-up', () => {
  it('the weight rises linearly from 0 to beta over warmup_steps, then stays at beta', () => {
    const o = { beta: 2, warmup_steps: 4 };
    expect([0, 1, 2, 3, 4, 5, 100].map((s) => klWeight(o, s))).toEqual([0, 0.5, 1, 1.5, 2, 2, 2]);
    expect(klWeight({ beta: 2, warmup_steps: 0 }, 0)).toBe(2);
  });

  it('the objective counts steps in its state and combines rec + weight * KL', () => {
    const options = { beta: 1, warmup_steps: 10 };
    let state = weighted.initialState(options);
    for (let i = 0; i < 3; i++) state = weighted.nextState!({ options, state, reconstruction: 5, kl: 1, pixelsPerImage: 4 });
    expect(state).toEqual({ steps: 3 });
    const out = tf.tidy(() => {
      const r = weighted.combine({ tf, options, reconstruction: tf.scalar(5), kl: tf.scalar(2), pixelsPerImage: 4, state });
      return [r.loss.dataSync()[0]!, r.logs!.kl_weight!.dataSync()[0]!];
    });
    expect(out[0]).toBeCloseTo(5 + 0.3 * 2, 6);
    expect(out[1]).toBeCloseTo(0.3, 6);
  });

  it('without a warm-up the state stays empty and nothing extra is logged (checkpoints as before)', () => {
    const options = { beta: 1, warmup_steps: 0 };
    const state = weighted.initialState(options);
    expect(state).toEqual({});
    expect(weighted.nextState!({ options, state, reconstruction: 1, kl: 1, pixelsPerImage: 4 })).toEqual({});
    const logs = tf.tidy(() => weighted.combine({ tf, options, reconstruction: tf.scalar(1), kl: tf.scalar(1), pixelsPerImage: 4, state }).logs);
    expect(logs).toBeUndefined();
  });
});
