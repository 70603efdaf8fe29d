/**
 * GECO: lambda rises while the reconstruction constraint is violated and falls once it holds (on
 * a synthetic loss); the EMA and ascent follow the hand-computed formulas; the constraint's value
 * is the EMA but its gradient is the current batch's (straight-through); state is JSON.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import hierarchical from '../../plugins/hierarchical/index.js';
import { lambdaOf, vForLambda, type GecoOptions } from '../../plugins/hierarchical/geco.js';
import type { ObjectiveState, Scalar, Tensor } from '../../compiler/api.js';

const geco = hierarchical.objectives.geco;
const defaults: GecoOptions = { kappa: 0.05, ema_decay: 0.99, lambda_lr: 1e-2, ascent: 'adam', initial_lambda: 1, pixel_fraction: 1 };
const N = 100; // pixels per image: the constraint threshold is kappa * N = 5

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `steps` updates with reconstruction values from `rec(step)`; returns lambda after each. */
function run(options: GecoOptions, rec: (step: number) => number, steps: number, start?: ObjectiveState) {
  let state = start ?? geco.initialState(options);
  const lambdas: number[] = [];
  for (let i = 0; i < steps; i++) {
    state = geco.nextState!({ options, state, reconstruction: rec(i), kl: 1, pixelsPerImage: N });
    lambdas.push(lambdaOf(state.v!));
  }
  return { state, lambdas };
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
const decreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x < xs[i - 1]!);

describe('geco objective', () => {
  it('starts at lambda = initial_lambda with an empty EMA', () => {
    const state = geco.initialState({ ...defaults, initial_lambda: 2.5 });
    expect(lambdaOf(state.v!)).toBeCloseTo(2.5, 10);
    expect(state.steps).toBe(0);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  for (const ascent of ['adam', 'sgd'] as const) {
    it(`${ascent}: lambda rises while rec > kappa*N and falls once rec < kappa*N`, () => {
      const options = { ...defaults, ascent };
      // Violated: rec = 8 > 5 for 50 steps.
      const up = run(options, () => 8, 50);
      expect(increasing(up.lambdas)).toBe(true);
      expect(up.lambdas[49]!).toBeGreaterThan(1);
      // Satisfied: rec = 1 < 5. The EMA needs some steps to cross 5; after that lambda falls.
      const down = run(options, () => 1, 400, up.state);
      const crossed = down.lambdas.findIndex((_, i) => i > 0 && down.lambdas[i]! < down.lambdas[i - 1]!);
      expect(crossed).toBeGreaterThan(0);
      expect(decreasing(down.lambdas.slice(crossed))).toBe(true);
      expect(down.lambdas[399]!).toBeLessThan(up.lambdas[49]!);
    });
  }

  it('EMA and sgd ascent follow the formulas step by step', () => {
    const options: GecoOptions = { ...defaults, ascent: 'sgd', ema_decay: 0.9, lambda_lr: 0.1 };
    const s0 = geco.initialState(options);
    const s1 = geco.nextState!({ options, state: s0, reconstruction: 7, kl: 0, pixelsPerImage: N });
    // First step: EMA starts at the value itself.
    expect(s1.ema).toBe(7);
    const sp = Math.log1p(Math.exp(s0.v!));
    const sig = 1 / (1 + Math.exp(-s0.v!));
    expect(s1.v).toBeCloseTo(s0.v! + 0.1 * (7 - 5) * 2 * sp * sig, 12);
    const s2 = geco.nextState!({ options, state: s1, reconstruction: 3, kl: 0, pixelsPerImage: N });
    expect(s2.ema).toBeCloseTo(0.9 * 7 + 0.1 * 3, 12);
    // The EMA (6.6) still violates the constraint although this batch (3) satisfies it: v still rises.
    expect(s2.v!).toBeGreaterThan(s1.v!);
  });

  it('loss = lambda * (EMA - kappa*N) + KL, with the gradient of the current reconstruction (straight-through)', () => {
    const options = defaults;
    const state: ObjectiveState = { ema: 10, v: vForLambda(4), steps: 5, m: 0, s: 0 };
    const rec = tf.scalar(20);
    const kl = tf.scalar(3);
    const { loss, logs } = geco.combine({ tf, options, reconstruction: rec, kl, pixelsPerImage: N, state });
    const ema = 0.99 * 10 + 0.01 * 20;
    expect(loss.dataSync()[0]).toBeCloseTo(4 * (ema - 5) + 3, 4);
    expect(logs!.geco_lambda!.dataSync()[0]).toBeCloseTo(4, 5);
    expect(logs!.geco_ema!.dataSync()[0]).toBeCloseTo(ema, 4);
    // d loss / d rec = lambda (not lambda * (1 - decay)), d loss / d kl = 1.
    const [dRec, dKl] = tf.grads((r: Tensor, k: Tensor) => geco.combine({ tf, options, reconstruction: r as Scalar, kl: k as Scalar, pixelsPerImage: N, state }).loss)([rec, kl]);
    expect(dRec!.dataSync()[0]).toBeCloseTo(4, 5);
    expect(dKl!.dataSync()[0]).toBeCloseTo(1, 6);
    tf.dispose([rec, kl, loss, ...Object.values(logs!), dRec!, dKl!]);
  });

  it('pixel_fraction scales N (for top-k CE, which only counts a fraction of the pixels)', () => {
    const options: GecoOptions = { ...defaults, ascent: 'sgd', pixel_fraction: 0.02 };
    // Threshold 0.05 * 0.02 * 100 = 0.1: rec = 0.5 violates it (it would satisfy 5).
    const { lambdas } = run(options, () => 0.5, 3);
    expect(increasing([1, ...lambdas])).toBe(true);
  });

  it('drives a synthetic model to the constraint: minimising KL pulls rec up to kappa*N and lambda settles', () => {
    // Model with one parameter t: rec = 10 * (t - 1)^2 (0 at t = 1), KL = t^2 (0 at t = 0).
    // Constrained optimum: rec = kappa * N = 5 -> |t - 1| = sqrt(0.5), t = 1 - 0.707 = 0.293.
    const options: GecoOptions = { ...defaults, ascent: 'adam', lambda_lr: 0.05, ema_decay: 0.9 };
    const t = tf.variable(tf.scalar(1));
    const optimizer = tf.train.adam(0.02);
    let state = geco.initialState(options);
    for (let i = 0; i < 1500; i++) {
      let recValue = 0;
      let klValue = 0;
      optimizer.minimize(() => {
        const rec = tf.mul(tf.square(tf.sub(t, 1)), 10) as Scalar;
        const kl = tf.square(t) as Scalar;
        recValue = rec.dataSync()[0]!;
        klValue = kl.dataSync()[0]!;
        const out = geco.combine({ tf, options, reconstruction: rec, kl, pixelsPerImage: N, state });
        return out.loss;
      });
      state = geco.nextState!({ options, state, reconstruction: recValue, kl: klValue, pixelsPerImage: N });
    }
    const final = t.dataSync()[0]!;
    expect(final).toBeGreaterThan(0.2);
    expect(final).toBeLessThan(0.4);
    expect(10 * (final - 1) ** 2).toBeGreaterThan(3.5);
    // At the optimum lambda = dKL/drec = 2t / (20 (1 - t)): about 0.042.
    expect(lambdaOf(state.v!)).toBeLessThan(0.2);
    t.dispose();
    optimizer.dispose();
  });
});
