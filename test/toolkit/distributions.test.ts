/**
 * Distribution.logProb and .stddev of the toolkit's families against dense textbook formulas
 * computed here in float64 (covariance built explicitly, inverse and determinant by Gaussian
 * elimination), and the hierarchical ancestral prior against the per-scale Gaussian it reduces
 * to with one scale.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { diagGaussian, lowRankGaussian } from '../../plugins/toolkit/distributions.js';
import { compileModel } from '../../compiler/compile.js';
import { createRegistry } from '../../plugins/index.js';
import { tinyHierarchicalSpec } from '../plugins/helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** log N(z; mu, S) with S dense (row-major n x n), by elimination on [S | d]. */
function denseLogDensity(z: number[], mu: number[], cov: number[][]): number {
  const n = z.length;
  const a = cov.map((row, i) => [...row, z[i]! - mu[i]!]);
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    const pivot = a[c]![c]!;
    logDet += Math.log(pivot);
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / pivot;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  // Back substitution gives x = S^-1 d; the quadratic form is d . x.
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  const quad = x.reduce((sum, xi, i) => sum + xi * (z[i]! - mu[i]!), 0);
  return -0.5 * (quad + logDet + n * Math.log(2 * Math.PI));
}

describe('diagGaussian', () => {
  it('logProb equals the dense formula with a diagonal covariance; stddev is sigma', async () => {
    const mu = [0.3, -1.2, 2.0];
    const logSigma = [-0.5, 0.1, 0.7];
    const z = [
      [0.0, -1.0, 1.5],
      [1.0, 0.0, 3.0],
    ];
    const d = diagGaussian(tf, tf.tensor2d([mu]), tf.tensor2d([logSigma]));
    const got = (await d.logProb(tf.tensor3d([z])).array()) as number[][];
    const cov = logSigma.map((l, i) => logSigma.map((_, j) => (i === j ? Math.exp(2 * l) : 0)));
    z.forEach((zi, k) => expect(got[0]![k]!).toBeCloseTo(denseLogDensity(zi, mu, cov), 4));
    expect(Array.from(await d.stddev().data())).toEqual(logSigma.map((l) => Math.fround(Math.exp(l))));
  });
});

describe('lowRankGaussian', () => {
  it('logProb and stddev equal the dense formulas for P P^T + D', async () => {
    const mu = [0.5, -0.5, 1.0, 0.0];
    const logDiag = [-1.0, -0.5, 0.0, -2.0];
    const factor = [
      [0.3, -0.2],
      [0.1, 0.4],
      [-0.5, 0.2],
      [0.0, 0.6],
    ];
    const d = lowRankGaussian(tf, tf.tensor2d([mu]), tf.tensor2d([logDiag]), tf.tensor3d([factor]));
    const cov = mu.map((_, i) => mu.map((_, j) => factor[i]!.reduce((s, p, r) => s + p * factor[j]![r]!, 0) + (i === j ? Math.exp(logDiag[i]!) : 0)));
    const z = [0.1, 0.2, -0.3, 0.4];
    const got = (await d.logProb(tf.tensor3d([[z]])).array()) as number[][];
    expect(got[0]![0]!).toBeCloseTo(denseLogDensity(z, mu, cov), 4);
    const sd = Array.from(await d.stddev().data());
    sd.forEach((s, i) => expect(s).toBeCloseTo(Math.sqrt(cov[i]![i]!), 6));
  });
});

describe('the hierarchical ancestral prior', () => {
  it('with one latent scale, its logProb is that scale\'s Gaussian density and its stddev that scale\'s sigma', async () => {
    const spec = tinyHierarchicalSpec();
    spec.latent = { ...spec.latent!, scales: 1 };
    const model = compileModel(spec, createRegistry());
    const images = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
    const prepared = model.segmenter.prepare(images);
    try {
      const prior = prepared.prior;
      const z = prior.sample(3, 11);
      const { mu, log_sigma: logSigma } = prior.params;
      const expected = diagGaussian(tf, mu!, logSigma!).logProb(z);
      const got = prior.logProb(z);
      expect(got.shape).toEqual([2, 3]);
      const [g, e] = [await got.data(), await expected.data()];
      g.forEach((v, i) => expect(v).toBeCloseTo(e[i]!, 2));
      expect(Array.from(await prior.stddev().data())).toEqual(Array.from(await tf.exp(logSigma!).data()));
      tf.dispose([z, expected, got]);
    } finally {
      prepared.dispose();
      images.dispose();
      model.dispose();
    }
  });
});
