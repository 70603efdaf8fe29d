/**
 * Top-k cross-entropy with a warm-up (issue 15): the counted fraction falls log-linearly from 1
 * to `fraction`, the term keeps the units of the final top-k sum, and on a short run under GECO
 * the warm-up leaves the p = 0.5 plateau (mean CE of the hardest pixels = ln 2) that top-k from a
 * random init settles on. Every step's term is checked against per-pixel cross-entropies computed
 * here from the step's logits and the pixel count the schedule should give at that step; the two
 * runs are compared on the same pixel fraction (the final one). (After the warm-up, at lr 1e-2 on
 * this toy, top-k itself is jumpy: the test looks at the steps up to the end of the warm-up.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import hierarchical from '../../plugins/hierarchical/index.js';
import { topKFraction, type TopKOptions } from '../../plugins/hierarchical/topk.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import type { ResolvedSpec, Scalar } from '../../compiler/api.js';
import { registryWithHierarchical, squareBatch, tinyHierarchicalSpec } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const loss = hierarchical.losses['top-k-cross-entropy'];

/** The counted pixels at `step` of a warm-up over `warmup` steps, written out independently of topk.ts. */
function expectedCount(pixels: number, fraction: number, warmup: number, step: number | undefined): number {
  const f = step !== undefined && step < warmup ? Math.exp(Math.log(fraction) * (step / warmup)) : fraction;
  return Math.min(pixels, Math.max(1, Math.round(f * pixels)));
}

/** Mean of the k largest values. */
const meanOfLargest = (xs: number[], k: number) => [...xs].sort((a, b) => b - a).slice(0, k).reduce((a, b) => a + b, 0) / k;
const options = (o: Partial<TopKOptions>): TopKOptions => ({ fraction: 0.01, selection: 'deterministic', reduction: 'sum-per-image', seed: 0, warmup_steps: 0, ...o });

describe('top-k warm-up schedule', () => {
  it('falls from 1 to the fraction by a constant factor per step, then stays; no step = final', () => {
    const o = options({ fraction: 0.01, warmup_steps: 4 });
    expect([0, 1, 2, 3, 4, 10].map((s) => topKFraction(o, s))).toEqual([1, 0.01 ** 0.25, 0.01 ** 0.5, 0.01 ** 0.75, 0.01, 0.01]);
    expect(topKFraction(o, undefined)).toBe(0.01);
    expect(topKFraction(options({ fraction: 0.01 }), 0)).toBe(0.01);
  });

  it('during the warm-up the term is the mean CE of the k_t hardest pixels times the final k per image', () => {
    // 2 images of 10 pixels, 2 classes; logits chosen so every pixel has its own CE.
    const B = 2;
    const n = 10;
    const logit = Array.from({ length: B * n }, (_, i) => (i % 7) - 3 + i / 40);
    const labels = Array.from({ length: B * n }, (_, i) => i % 2);
    const ce = logit.map((z, i) => (labels[i] === 1 ? Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))));
    const o = options({ fraction: 0.1, warmup_steps: 2 });
    const value = (step: number | undefined) =>
      tf.tidy(() => {
        const logits = tf.stack([tf.zeros([B * n]), tf.tensor1d(logit)], 1).reshape([B, 1, n, 2]);
        return (loss.compute({ tf, options: o, logits, labels: tf.tensor3d(labels, [B, 1, n], 'int32'), step }) as Scalar).dataSync()[0]!;
      });
    const target = 2; // 10 % of 20 pixels
    const counts = [0, 1, 2, 3, undefined].map((step) => expectedCount(B * n, 0.1, 2, step));
    expect(counts).toEqual([20, 6, 2, 2, 2]); // 20 * 0.1^(1/2) = 6.3
    [0, 1, 2, 3, undefined].forEach((step, i) => expect(value(step)).toBeCloseTo((meanOfLargest(ce, counts[i]!) * target) / B, 5));
  });
});

describe('top-k + GECO on a short run', () => {
  /**
   * Trains an 8x8 hierarchical model on squares. Before each step the test recomputes the step's
   * forward pass (same weights and seed) and the per-pixel CE from its logits; it checks that the
   * step's reconstruction term is the mean CE of the k_t hardest pixels (k_t from expectedCount)
   * in final-k units, and returns per step the mean CE of the hardest 25 % (the final fraction).
   */
  async function hardestQuarter(warmupSteps: number, steps: number): Promise<number[]> {
    const base = tinyHierarchicalSpec();
    const [size, batch, fraction] = [8, 2, 0.25];
    const spec: ResolvedSpec = {
      ...base,
      input: { size: [size, size], channels: 1, classes: 2 },
      unet: { kind: 'resnet-unet', widths: [8, 8, 8], blocks_per_level: 1, convs_per_block: 1 },
      latent: { kind: 'hierarchical-gaussian', scales: 2 },
      loss: {
        ...base.loss,
        reconstruction: { kind: 'top-k-cross-entropy', fraction, warmup_steps: warmupSteps },
        objective: { kind: 'geco', kappa: 0.05, pixel_fraction: fraction },
      },
      train: { ...base.train, optimizer: { kind: 'adam', lr: 1e-2 } },
    };
    const registry = registryWithHierarchical();
    const { images, masks } = squareBatch(tf, batch, size);
    const model = compileModel(spec, registry, { seed: 3 });
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    let state = training.initialObjectiveState();
    const pixels = batch * size * size;
    const target = expectedCount(pixels, fraction, warmupSteps, undefined);
    const labels = Array.from(await masks.data());
    const quarter: number[] = [];
    for (let i = 0; i < steps; i++) {
      const logits = tf.tidy(() => model.segmenter.trainForward(images, masks, 99 + i).logits);
      const z = Array.from(await logits.data()); // [B, H, W, 2]
      logits.dispose();
      const ce = labels.map((label, p) => Math.log(Math.exp(z[2 * p]!) + Math.exp(z[2 * p + 1]!)) - z[2 * p + label]!);
      const r = await trainStep(model, training, handle, { images, masks, seed: 99 + i, step: i, state });
      // sum-per-image in final-k units: mean CE of the k_t counted pixels * target / batch.
      const k = expectedCount(pixels, fraction, warmupSteps, i);
      expect(r.reconstruction, `step ${i}: k = ${k}`).toBeCloseTo((meanOfLargest(ce, k) * target) / batch, 4);
      state = training.nextObjectiveState(state, { reconstruction: r.reconstruction, kl: r.kl, pixelsPerImage: size * size });
      quarter.push(meanOfLargest(ce, target));
    }
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
    return quarter;
  }

  it('without a warm-up the hardest quarter of the pixels sits at ln 2; a warm-up takes it off', async () => {
    // 20 steps of warm-up and of training; both runs measured on the hardest 25 % of the pixels.
    const stalled = await hardestQuarter(0, 20);
    const warmed = await hardestQuarter(20, 20);
    // the last 8 steps (12..19: counted fraction 43 % down to 27 % in the warm-up run)
    const tail = (xs: number[]) => xs.slice(-8).reduce((a, b) => a + b, 0) / 8;
    expect(Math.abs(tail(stalled) - Math.LN2)).toBeLessThan(0.03);
    expect(tail(warmed)).toBeLessThan(Math.LN2 - 0.2);
  });
});
