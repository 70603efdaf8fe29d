/**
 * top-k-cross-entropy: exactly k pixels count, checked against a plain-JS sort of the per-pixel
 * cross-entropy; the gradient reaches only those pixels; Gumbel selection also picks exactly k.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import hierarchical from '../../plugins/hierarchical/index.js';
import { topKCount, topKMask } from '../../plugins/hierarchical/topk.js';
import type { TopKOptions } from '../../plugins/hierarchical/topk.js';
import type { Tensor } from '../../compiler/api.js';

const loss = hierarchical.losses['top-k-cross-entropy'];
const options = (o: Partial<TopKOptions> = {}): TopKOptions => ({ fraction: 0.02, selection: 'deterministic', reduction: 'sum-per-image', seed: 0, warmup_steps: 0, ...o });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A seeded LCG, so the fixture does not depend on tfjs. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function fixture(batch: number, h: number, w: number, k: number, seed = 1) {
  const rand = lcg(seed);
  const logits = Float32Array.from({ length: batch * h * w * k }, () => (rand() - 0.5) * 6);
  const labels = Int32Array.from({ length: batch * h * w }, () => Math.floor(rand() * k));
  return { logits, labels, shape: [batch, h, w, k] as [number, number, number, number] };
}

/** Per-pixel softmax cross-entropy in plain JS (log-sum-exp form). */
function crossEntropyJs(logits: Float32Array, labels: Int32Array, k: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < labels.length; p++) {
    const row = Array.from(logits.subarray(p * k, (p + 1) * k));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
    out.push(lse - row[labels[p]!]!);
  }
  return out;
}

describe('top-k cross-entropy', () => {
  it('k = round(fraction * pixels), at least 1, at most all', () => {
    expect(topKCount(2 * 16 * 16, 0.02)).toBe(10); // 10.24
    expect(topKCount(100, 0.025)).toBe(3); // 2.5 rounds half up
    expect(topKCount(10, 0.001)).toBe(1);
    expect(topKCount(10, 1)).toBe(10);
  });

  it('equals the sum of the k largest per-pixel CEs (sorted in JS) divided by the batch', () => {
    const { logits, labels, shape } = fixture(3, 10, 10, 3);
    const ce = crossEntropyJs(logits, labels, 3).sort((a, b) => b - a);
    for (const fraction of [0.02, 0.1, 0.5, 1]) {
      const k = topKCount(300, fraction);
      const expected = ce.slice(0, k).reduce((a, b) => a + b, 0);
      const [sum, mean] = tf.tidy(() => {
        const ctx = { tf, logits: tf.tensor4d(logits, shape), labels: tf.tensor3d(labels, shape.slice(0, 3) as [number, number, number], 'int32') };
        return [
          loss.compute({ ...ctx, options: options({ fraction }) }).dataSync()[0]!,
          loss.compute({ ...ctx, options: options({ fraction, reduction: 'mean' }) }).dataSync()[0]!,
        ];
      });
      expect(sum).toBeCloseTo(expected / 3, 3);
      expect(mean).toBeCloseTo(expected / k, 4);
    }
  });

  it('the mask has exactly k ones, even when every score ties', () => {
    for (const [n, k] of [[50, 7], [1000, 20], [64, 64]] as const) {
      const counts = tf.tidy(() => {
        const distinct = topKMask(tf, tf.randomUniform([n], 0, 1, 'float32', n), k);
        const ties = topKMask(tf, tf.ones([n]), k);
        return [tf.sum(distinct).dataSync()[0], tf.sum(ties).dataSync()[0], tf.max(distinct).dataSync()[0]];
      });
      expect(counts).toEqual([k, k, 1]);
    }
  });

  it('the gradient reaches exactly the k selected pixels', () => {
    const { logits, labels, shape } = fixture(2, 8, 8, 2, 5);
    const ce = crossEntropyJs(logits, labels, 2);
    const k = topKCount(128, 0.1);
    const threshold = [...ce].sort((a, b) => b - a)[k - 1]!;
    const grad = tf.tidy(() => {
      const labelsT = tf.tensor3d(labels, [2, 8, 8], 'int32');
      const g = tf.grad((x: Tensor) => loss.compute({ tf, logits: x, labels: labelsT, options: options({ fraction: 0.1 }) }));
      return g(tf.tensor4d(logits, shape)).dataSync();
    });
    let touched = 0;
    for (let p = 0; p < 128; p++) {
      const nonzero = Math.abs(grad[2 * p]!) + Math.abs(grad[2 * p + 1]!) > 0;
      if (nonzero) {
        touched++;
        expect(ce[p]!).toBeGreaterThanOrEqual(threshold);
      }
    }
    expect(touched).toBe(k);
  });

  it('Gumbel selection picks exactly k pixels, reproducibly per seed, favouring high-CE pixels', () => {
    const { logits, labels, shape } = fixture(2, 16, 16, 2, 9);
    const ce = crossEntropyJs(logits, labels, 2);
    const n = ce.length;
    const k = topKCount(n, 0.1);
    const pick = (seed: number) =>
      tf.tidy(() => {
        const scores = tf.add(tf.log(tf.add(tf.tensor1d(ce), 1e-12)), tf.neg(tf.log(tf.neg(tf.log(tf.randomUniform([n], 1e-7, 1 - 1e-7, 'float32', seed))))));
        return Array.from(topKMask(tf, scores, k).dataSync());
      });
    const a = pick(1);
    expect(a.reduce((s, v) => s + v, 0)).toBe(k);
    expect(pick(1)).toEqual(a);
    // Selected pixels have a higher mean CE than the batch (selection probability ~ CE).
    const meanAll = ce.reduce((s, v) => s + v, 0) / n;
    const meanPicked = ce.reduce((s, v, i) => s + v * a[i]!, 0) / k;
    expect(meanPicked).toBeGreaterThan(meanAll);
    // Through the contribution: same k, a value no larger than the deterministic top-k sum.
    const [gumbel, deterministic] = tf.tidy(() => {
      const ctx = { tf, logits: tf.tensor4d(logits, shape), labels: tf.tensor3d(labels, [2, 16, 16], 'int32') };
      return [
        loss.compute({ ...ctx, options: options({ fraction: 0.1, selection: 'gumbel', reduction: 'mean' }) }).dataSync()[0]!,
        loss.compute({ ...ctx, options: options({ fraction: 0.1, reduction: 'mean' }) }).dataSync()[0]!,
      ];
    });
    expect(gumbel).toBeLessThanOrEqual(deterministic + 1e-5);
    expect(gumbel).toBeGreaterThan(meanAll);
  });

  it('leaves no tensors behind', () => {
    const { logits, labels, shape } = fixture(1, 8, 8, 2);
    const x = tf.tensor4d(logits, shape);
    const y = tf.tensor3d(labels, [1, 8, 8], 'int32');
    const before = tf.memory().numTensors;
    const value = loss.compute({ tf, logits: x, labels: y, options: options({ selection: 'gumbel' }) });
    value.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
