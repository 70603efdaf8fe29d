import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { SeededParamFactory, deriveSeed, fans, type VariableRecord } from '../../compiler/params.js';
import { canonicalJson, specHash } from '../../compiler/provenance.js';
import { countFlops } from '../../compiler/flops.js';
import { compileModel } from '../../compiler/compile.js';
import { createRegistry } from '../../plugins/index.js';
import { lidcSpec } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function stats(values: Float32Array) {
  let sum = 0;
  let sq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), maxAbs };
}

describe('initialisers', () => {
  const store = new Map<string, VariableRecord>();
  const params = new SeededParamFactory(tf, 7, store);

  it('he-normal-truncated has variance 2 / fan_in and is cut at 2 of its pre-correction std', () => {
    const v = params.variable('he', [3, 3, 64, 128], { kind: 'he-normal-truncated' });
    const s = stats(v.dataSync() as Float32Array);
    const target = Math.sqrt(2 / (3 * 3 * 64));
    expect(s.mean).toBeCloseTo(0, 3);
    expect(Math.abs(s.std / target - 1)).toBeLessThan(0.02);
    expect(s.maxAbs).toBeLessThanOrEqual((2 * target) / 0.8796256610342398 + 1e-6);
  });

  it('truncated-normal(std) for biases', () => {
    const v = params.variable('b', [20000], { kind: 'truncated-normal', std: 0.001 });
    const s = stats(v.dataSync() as Float32Array);
    // A unit normal truncated at +-2 has std 0.8796.
    expect(Math.abs(s.std / (0.001 * 0.8796) - 1)).toBeLessThan(0.03);
    expect(s.maxAbs).toBeLessThanOrEqual(0.002 + 1e-9);
  });

  it('orthogonal kernels have orthonormal columns (or rows)', () => {
    for (const shape of [
      [3, 3, 8, 16],
      [1, 1, 32, 8],
      [4, 12],
    ]) {
      const v = params.variable(`orth${shape.join('x')}`, shape, { kind: 'orthogonal' });
      const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const cols = shape[shape.length - 1]!;
      const err = tf.tidy(() => {
        const m = tf.reshape(v, [rows, cols]);
        const gram = rows >= cols ? tf.matMul(m, m, true, false) : tf.matMul(m, m, false, true);
        return tf.max(tf.abs(tf.sub(gram, tf.eye(Math.min(rows, cols))))).dataSync()[0]!;
      });
      expect(err, shape.join('x')).toBeLessThan(1e-5);
    }
  });

  it('glorot-uniform stays within sqrt(6 / (fan_in + fan_out))', () => {
    const v = params.variable('g', [3, 3, 16, 16], { kind: 'glorot-uniform' });
    const limit = Math.sqrt(6 / (9 * 16 + 9 * 16));
    const s = stats(v.dataSync() as Float32Array);
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(Math.abs(s.std / (limit / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
  });

  it('zeros, fans, and duplicate names', () => {
    expect(Array.from(params.variable('z', [3], { kind: 'zeros' }).dataSync())).toEqual([0, 0, 0]);
    expect(fans([3, 3, 4, 5])).toEqual([36, 45]);
    expect(() => params.variable('z', [3], { kind: 'zeros' })).toThrow(/created twice/);
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(2, 'a'));
    for (const r of store.values()) r.variable.dispose();
  });
});

describe('provenance', () => {
  it('the spec hash ignores key order and sees every value', () => {
    const a = lidcSpec();
    const reordered = JSON.parse(canonicalJson(a)) as typeof a;
    expect(Object.keys(reordered)[0]).toBe('architecture');
    expect(specHash(reordered)).toBe(specHash(a));
    const b = lidcSpec();
    b.latent = { ...b.latent!, size: 7 };
    expect(specHash(b)).not.toBe(specHash(a));
    expect(specHash(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('FLOP count', () => {
  it('matches the conv multiply-adds of the LIDC network counted by hand', () => {
    const model = compileModel(lidcSpec(), createRegistry(), { seed: 1 });
    try {
      const flops = countFlops(model.summary);
      const widths = [32, 64, 128, 192];
      const side = (i: number) => 128 >> i;
      // Multiply-adds of one encoder, by level: 3 convs 3x3.
      const encoderMacs = (cin: number) =>
        widths.reduce((sum, w, i) => sum + side(i) ** 2 * 9 * ((i === 0 ? cin : widths[i - 1]!) * w + 2 * w * w), 0);
      let decoderMacs = 0;
      for (let i = 2; i >= 0; i--) decoderMacs += side(i) ** 2 * 9 * ((widths[i + 1]! + widths[i]!) * widths[i]! + 2 * widths[i]! ** 2);
      const fcombMacs = 128 * 128 * ((32 + 6) * 32 + 2 * 32 * 32 + 32 * 2);
      const macs = 2 * encoderMacs(1) + encoderMacs(3) + decoderMacs + fcombMacs + 2 * 192 * 12;
      // Convs dominate: the rest (bias, relu, pooling, resize) adds a few percent.
      expect(flops.trainForward).toBeGreaterThan(2 * macs);
      expect(flops.trainForward).toBeLessThan(2 * macs * 1.03);
      expect(flops.trainStep).toBe(3 * flops.trainForward);
      expect(flops.complete).toBe(true);
    } finally {
      model.dispose();
    }
  });
});
