/**
 * The low-rank latent example plugin: log-density and Monte-Carlo KL against full-covariance
 * computations in plain JS (Cholesky of P P^T + D, no Woodbury), then through the compiler as a
 * `use` line would load it: options checked, one training step of a tiny flat model, no leaks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import plugin from './index.js';
import { loadPlugins } from '../../../compiler/plugin-loader.js';
import { createRegistry } from '../../../plugins/index.js';
import { compileModel } from '../../../compiler/compile.js';
import { compileTraining, trainStep } from '../../../compiler/training.js';
import { tinyFlatSpec, squareBatch } from '../../../test/plugins/helpers.js';
import { lowRankGaussian } from '../../../plugins/toolkit/distributions.js';
import { loadSpec, formatDiagnostics } from '../../../spec/index.js';
import { loadUsePlugins } from '../../../spec/frontend-cli.js';

const here = dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Matrix = number[][];

/** A Gaussian's covariance P P^T + diag(exp(logDiag)) as a full matrix. */
function covariance(factor: Matrix, logDiag: number[]): Matrix {
  return logDiag.map((ld, i) => logDiag.map((_, j) => factor[i]!.reduce((s, p, k) => s + p * factor[j]![k]!, i === j ? Math.exp(ld) : 0)));
}

function cholesky(a: Matrix): Matrix {
  const n = a.length;
  const l: Matrix = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(s) : s / l[j]![j]!;
    }
  }
  return l;
}

/** Solves (L L^T) x = b. */
function solve(l: Matrix, b: number[]): number[] {
  const n = b.length;
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) y[i] = (b[i]! - l[i]!.slice(0, i).reduce((s, v, k) => s + v * y[k]!, 0)) / l[i]![i]!;
  const x = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}

const logDet = (l: Matrix) => 2 * l.reduce((s, row, i) => s + Math.log(row[i]!), 0);

function logDensity(z: number[], mu: number[], cov: Matrix): number {
  const l = cholesky(cov);
  const d = z.map((v, i) => v - mu[i]!);
  const quad = d.reduce((s, v, i) => s + v * solve(l, d)[i]!, 0);
  return -0.5 * (quad + logDet(l) + z.length * Math.log(2 * Math.PI));
}

/** KL(N(mq, Sq) || N(mp, Sp)) in closed form. */
function gaussianKL(mq: number[], sq: Matrix, mp: number[], sp: Matrix): number {
  const lp = cholesky(sp);
  const n = mq.length;
  let trace = 0;
  for (let j = 0; j < n; j++) trace += solve(lp, sq.map((row) => row[j]!))[j]!;
  const d = mp.map((v, i) => v - mq[i]!);
  const quad = d.reduce((s, v, i) => s + v * solve(lp, d)[i]!, 0);
  return 0.5 * (trace + quad - n + logDet(lp) - logDet(cholesky(sq)));
}

// Two Gaussians over M = 4 with rank-2 factors (batch of 1).
const q = { mu: [0.3, -0.2, 1, 0], logDiag: [-1, -0.5, -2, 0.2], factor: [[0.8, 0.1], [0.5, -0.7], [0, 0.4], [-0.3, 0.2]] };
const p = { mu: [0, 0, 0.5, 0.2], logDiag: [0, -0.3, -1, 0], factor: [[0.2, 0], [0.1, 0.5], [-0.6, 0.3], [0, 0.1]] };
const dist = (g: typeof q) => lowRankGaussian(tf, tf.tensor2d([g.mu]), tf.tensor2d([g.logDiag]), tf.tensor3d([g.factor]));

describe('low-rank-latent plugin', () => {
  it('log-density (Woodbury, r x r Cholesky) equals the full-covariance density', () => {
    const zs = [[0, 0, 0, 0], [1, -1, 2, 0.5], [-0.4, 0.3, 0.9, -1.2]];
    const values = tf.tidy(() => dist(q).logProb(tf.tensor3d([zs])).arraySync() as number[][]);
    const cov = covariance(q.factor, q.logDiag);
    zs.forEach((z, i) => expect(values[0]![i]).toBeCloseTo(logDensity(z, q.mu, cov), 3));
  });

  it('the Monte-Carlo KL converges to the closed-form KL between the two Gaussians', () => {
    const mc = plugin.klEstimators!.mc!;
    const exact = gaussianKL(q.mu, covariance(q.factor, q.logDiag), p.mu, covariance(p.factor, p.logDiag));
    const estimate = tf.tidy(() => mc.compute({ tf, options: { samples: 20000 }, latents: [{ posterior: dist(q), prior: dist(p) }], seed: 3 }).dataSync()[0]!);
    expect(exact).toBeGreaterThan(0.5);
    expect(Math.abs(estimate - exact)).toBeLessThan(0.05 * exact);
  });

  it('loads like a `use` line: options checked, one training step of the flat model, no leaks', async () => {
    const registry = createRegistry();
    await loadPlugins(['./index.js'], registry, { fromDir: here });
    const spec = tinyFlatSpec();
    spec.latent = { kind: 'low-rank-latent/gaussian', size: 2, rank: 3 };
    expect(() => compileModel(spec, registry)).toThrow(/latent\.rank: .*must be <= size \(2\), got 3/);
    spec.latent = { kind: 'low-rank-latent/gaussian', size: 3, rank: 2 };
    // The built-in analytic KL does not fit this family (its `families` vs the block's `family`): refused at compile time, so `punet check` reports it too.
    expect(() => compileTraining(spec, registry)).toThrow(/loss\.kl: KL estimator 'analytic' handles diag-gaussian latents, but latent block 'low-rank-latent\/gaussian' produces 'low-rank-gaussian': use a KL estimator that handles it \(low-rank-latent\/mc\)/);
    const model = compileModel(spec, registry, { seed: 2 });
    const { images, masks } = squareBatch(tf, 2, 16);

    spec.loss.kl = { kind: 'low-rank-latent/mc', samples: 2 };
    const training = compileTraining(spec, registry);
    const state = training.initialObjectiveState();
    const handle = training.createOptimizer();
    const before = model.variables.map((v) => v.variable).map((v) => v.dataSync().slice());
    const tensors = tf.memory().numTensors;
    const result = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state });
    expect(Number.isFinite(result.kl) && Number.isFinite(result.reconstruction)).toBe(true);
    expect(model.variables.map((v) => v.variable).every((v, i) => v.dataSync().some((x, j) => x !== before[i]![j]))).toBe(true);
    expect(tf.memory().numTensors - tensors).toBe(2); // flat Adam: one m and one v vector for all variables
    // Sampling from the prior and its mean, as evaluation does.
    const prepared = model.segmenter.prepare(images);
    const logits = model.segmenter.sample(prepared, 3, { seed: 4 });
    expect(logits.shape).toEqual([2, 3, 16, 16, 2]);
    tf.dispose(logits);
    prepared.dispose();
    expect(tf.memory().numTensors - tensors).toBe(2);
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
  });

  it('variant-low-rank.punet loads the plugin by its `use` line and compiles', async () => {
    const registry = createRegistry();
    const result = await loadSpec(`${here}/variant-low-rank.punet`, { registry, loadPlugins: loadUsePlugins });
    if (!result.spec) throw new Error(formatDiagnostics(result.diagnostics, { sources: result.sources }));
    expect(result.spec.latent).toEqual({ kind: 'low-rank-latent/gaussian', size: 6, rank: 2, diagonal_floor: 1e-4, head_init_std: 0.001 });
    expect(result.spec.loss.kl).toEqual({ kind: 'low-rank-latent/mc', samples: 4 });
    const model = compileModel(result.spec, registry);
    expect(model.summary.find((b) => b.role === 'prior')!.outputShapes.head).toEqual([6 * (2 + 2)]);
    compileTraining(result.spec, registry);
    model.dispose();
  });
});
