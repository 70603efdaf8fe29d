/**
 * Gradients of the network's linear resampling ops (bilinear align-corners resize, 2x2 average
 * pooling) on wasm and on cpu, against the adjoint computed from the FORWARD op: for a linear map
 * y = R x, d/dx sum(dy * y) at pixel i equals sum(dy * R e_i). Odd and non-square sizes, which
 * also cover the cpu backend's ResizeBilinearGrad shape bug and both backends' AvgPoolGrad on
 * padded windows, which runtime/backends/{cpu-fixes,avg-pool-grad}.ts correct.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { onBackend, relErr, seededValues } from './helpers.js';

function adjointByBasis(shape: [number, number, number, number], dy: tf.Tensor, forward: (x: tf.Tensor4D) => tf.Tensor): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = tf.tidy(() => {
      const e = tf.buffer(shape);
      e.values[i] = 1;
      return tf.sum(tf.mul(dy, forward(e.toTensor() as tf.Tensor4D))).dataSync()[0]!;
    });
  }
  return out;
}

function gradAndAdjoint(shape: [number, number, number, number], forward: (x: tf.Tensor4D) => tf.Tensor) {
  return tf.tidy(() => {
    const x = tf.tensor4d(seededValues(shape.reduce((a, b) => a * b, 1), 11), shape);
    const yShape = forward(x).shape;
    const dy = tf.tensor(seededValues(yShape.reduce((a, b) => a * b, 1), 12), yShape);
    const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(dy, forward(a as tf.Tensor4D))))(x);
    expect(grad.shape).toEqual(shape);
    return { grad: grad.dataSync() as Float32Array, adjoint: adjointByBasis(shape, dy, forward) };
  });
}

const CASES: { name: string; shape: [number, number, number, number]; forward: (x: tf.Tensor4D) => tf.Tensor }[] = [
  { name: 'resizeBilinear 5x6 -> 9x11 align corners', shape: [2, 5, 6, 2], forward: (x) => tf.image.resizeBilinear(x, [9, 11], true) },
  { name: 'resizeBilinear 3x2 -> 4x7 align corners', shape: [1, 3, 2, 3], forward: (x) => tf.image.resizeBilinear(x, [4, 7], true) },
  { name: 'avgPool 2x2 stride 2 same, 5x7 (padded windows)', shape: [2, 5, 7, 2], forward: (x) => tf.avgPool(x, 2, 2, 'same') },
  { name: 'avgPool 3x3 stride 2 same, 6x5', shape: [1, 6, 5, 3], forward: (x) => tf.avgPool(x, 3, 2, 'same') },
  { name: 'avgPool 2x2 stride 2 same, 6x8 (no padding needed)', shape: [2, 6, 8, 2], forward: (x) => tf.avgPool(x, 2, 2, 'same') },
  { name: 'avgPool 2x2 stride 2 valid, 7x6', shape: [1, 7, 6, 3], forward: (x) => tf.avgPool(x, 2, 2, 'valid') },
];

describe.each(['cpu', 'wasm'] as const)('linear op gradients on %s', (backend) => {
  it.each(CASES)('$name', async ({ shape, forward }) => {
    const { grad, adjoint } = await onBackend(backend, () => gradAndAdjoint(shape, forward));
    expect(relErr(grad, adjoint)).toBeLessThan(1e-5);
  });
});
