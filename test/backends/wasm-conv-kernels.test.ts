/**
 * The wasm convolution gradient kernels against a naive loop reference and against the cpu
 * backend, on odd shapes: odd H/W, stride 1 and 2, SAME and VALID, 1x1/2x2/3x3 filters,
 * batch 1..3, channels 1..5.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { geometry, naiveFilterGrad, naiveInputGrad } from './reference.js';
import { onBackend, relErr, seededValues } from './helpers.js';

type Case = { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'same' | 'valid' };

const CASES: Case[] = [
  { x: [1, 5, 5, 1], f: [3, 3, 1, 2], stride: 1, pad: 'same' },
  { x: [3, 7, 6, 3], f: [3, 3, 3, 5], stride: 2, pad: 'same' },
  { x: [2, 7, 7, 5], f: [3, 3, 5, 4], stride: 2, pad: 'valid' },
  { x: [3, 5, 4, 3], f: [1, 1, 3, 5], stride: 1, pad: 'valid' },
  { x: [1, 6, 7, 2], f: [1, 1, 2, 3], stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 3], stride: 1, pad: 'valid' },
  { x: [1, 8, 8, 4], f: [2, 2, 4, 3], stride: 2, pad: 'same' },
  { x: [2, 6, 5, 3], f: [2, 2, 3, 2], stride: 1, pad: 'same' },
  { x: [3, 11, 13, 5], f: [3, 3, 5, 1], stride: 1, pad: 'same' },
];

const name = (c: Case) => `x ${c.x.join('x')} filter ${c.f.join('x')} stride ${c.stride} ${c.pad}`;

function filterGradOn(c: Case, x: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) }, {
      strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(c.f);
    return out.dataSync() as Float32Array;
  });
}

function inputGradOn(c: Case, w: Float32Array, dy: Float32Array, dyShape: number[]): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, c.f) }, {
      strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(c.x);
    return out.dataSync() as Float32Array;
  });
}

describe('wasm Conv2DBackpropFilter', () => {
  it.each(CASES)('matches the naive reference and cpu: %#', async (c) => {
    const g = geometry(c.x, c.f, c.stride, c.pad);
    const dyShape = [g.n, g.ho, g.wo, g.co];
    const x = seededValues(c.x.reduce((a, b) => a * b), 1);
    const dy = seededValues(dyShape.reduce((a, b) => a * b), 2);
    const expected = naiveFilterGrad(g, x, dy);
    const wasm = await onBackend('wasm', () => filterGradOn(c, x, dy, dyShape));
    const cpu = await onBackend('cpu', () => filterGradOn(c, x, dy, dyShape));
    expect(relErr(wasm, expected), name(c)).toBeLessThan(1e-5);
    expect(relErr(cpu, expected), name(c)).toBeLessThan(1e-5);
  });
});

describe('wasm Conv2DBackpropInput (XNNPACK path at stride 1, stock kernel otherwise)', () => {
  it.each(CASES)('matches the naive reference and cpu: %#', async (c) => {
    const g = geometry(c.x, c.f, c.stride, c.pad);
    const dyShape = [g.n, g.ho, g.wo, g.co];
    const w = seededValues(c.f.reduce((a, b) => a * b), 3);
    const dy = seededValues(dyShape.reduce((a, b) => a * b), 4);
    const expected = naiveInputGrad(g, w, dy);
    const wasm = await onBackend('wasm', () => inputGradOn(c, w, dy, dyShape));
    const cpu = await onBackend('cpu', () => inputGradOn(c, w, dy, dyShape));
    expect(relErr(wasm, expected), name(c)).toBeLessThan(1e-5);
    expect(relErr(cpu, expected), name(c)).toBeLessThan(1e-5);
  });

  it('a hand-worked case: 1x1 input channel, 2x2 ones filter, stride 1 VALID', async () => {
    // y = 2x2 box sum of a 3x3 x; dy = 1 everywhere on the 2x2 output, so dx counts how many
    // windows cover each pixel: corners 1, edges 2, centre 4.
    const dx = await onBackend('wasm', () =>
      tf.tidy(() =>
        (tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.ones([1, 2, 2, 1]), filter: tf.ones([2, 2, 1, 1]) }, {
          strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [1, 3, 3, 1],
        } as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync(),
      ),
    );
    expect(Array.from(dx)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });
});
