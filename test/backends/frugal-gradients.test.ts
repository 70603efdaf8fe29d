/**
 * The frugal backward pass (runtime/backends/frugal-gradients.ts) against tfjs's own: the same
 * gradients bit for bit on a graph with every case its bookkeeping handles (a tensor used twice,
 * so its gradient is a sum; gradients handed on unchanged, so one tensor is several tensors'
 * gradient; a multi-output op; an input that needs no gradient; a user-supplied dy), no tensor
 * left behind, and a lower peak of live tensor bytes (the point of it).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFrugalGradients, uninstallFrugalGradients } from '../../runtime/backends/frugal-gradients.js';
import { seededValues } from './helpers.js';

type Grads = { value: number; grads: Float32Array[] };

/** A small net: conv + relu, a split and concat, a skip (x used twice), pooling, a sum of squares. */
function net(image: tf.Tensor4D, w1: tf.Variable, w2: tf.Variable, b: tf.Variable): tf.Scalar {
  const h = tf.relu(tf.add(tf.conv2d(image, w1 as tf.Tensor4D, 1, 'same'), b));
  const [left, right] = tf.split(h, [3, 5], 3);
  const mixed = tf.concat([tf.mul(right!, 2), tf.reshape(tf.reshape(left!, [-1]), left!.shape)], 3);
  const skip = tf.add(mixed, h); // h used twice
  const y = tf.conv2d(tf.avgPool(skip as tf.Tensor4D, 2, 2, 'same'), w2 as tf.Tensor4D, 1, 'valid');
  return tf.sum(tf.square(tf.tanh(y)));
}

function run(variables: tf.Variable[], image: tf.Tensor4D, dy?: tf.Scalar): { result: Grads; peakBytes: number; leaked: number } {
  const before = tf.memory().numTensors;
  let peakBytes = 0;
  const engine = tf.engine() as unknown as { state: { numBytes: number } };
  const [w1, w2, b] = variables as [tf.Variable, tf.Variable, tf.Variable];
  // Peak live bytes, sampled after every kernel.
  const originalRun = tf.engine().runKernel.bind(tf.engine());
  (tf.engine() as unknown as { runKernel: typeof originalRun }).runKernel = ((...args: Parameters<typeof originalRun>) => {
    const out = originalRun(...args);
    peakBytes = Math.max(peakBytes, engine.state.numBytes);
    return out;
  }) as typeof originalRun;
  try {
    const { value, grads } = tf.engine().gradients(() => net(image, w1, w2, b), variables, dy, false);
    const result = { value: value.dataSync()[0]!, grads: grads.map((g) => g.dataSync() as Float32Array) };
    tf.dispose([value, ...grads]);
    return { result, peakBytes, leaked: tf.memory().numTensors - before };
  } finally {
    (tf.engine() as unknown as { runKernel: typeof originalRun }).runKernel = originalRun;
  }
}

describe('frugal backward pass', () => {
  let variables: tf.Variable[];
  let image: tf.Tensor4D;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    variables = [
      tf.variable(tf.tensor4d(seededValues(3 * 3 * 2 * 8, 1), [3, 3, 2, 8]), true, 'w1'),
      tf.variable(tf.tensor4d(seededValues(3 * 3 * 8 * 4, 2), [3, 3, 8, 4]), true, 'w2'),
      tf.variable(tf.tensor1d(seededValues(8, 3)), true, 'b'),
    ];
    image = tf.tensor4d(seededValues(2 * 12 * 10 * 2, 4), [2, 12, 10, 2]);
  });
  afterAll(() => {
    uninstallFrugalGradients();
    tf.dispose([...variables, image]);
  });

  it('gives tfjs own gradients bit for bit, leaks nothing, and peaks lower', () => {
    uninstallFrugalGradients();
    const own = run(variables, image);
    installFrugalGradients();
    const frugal = run(variables, image);
    expect(frugal.result.value).toBe(own.result.value);
    frugal.result.grads.forEach((g, i) => expect(Array.from(g), variables[i]!.name).toEqual(Array.from(own.result.grads[i]!)));
    expect(own.leaked).toBe(0);
    expect(frugal.leaked).toBe(0);
    // tfjs's own keeps every intermediate's gradient to the end (measured: 0.87x on this small net,
    // 0.38x for the LIDC model's wasm heap, whose peak is mostly those gradients).
    expect(frugal.peakBytes).toBeLessThan(0.9 * own.peakBytes);
  });

  it('with a user dy: the same gradients, and the dy is left alive for its owner', () => {
    const dy = tf.scalar(0.5);
    uninstallFrugalGradients();
    const own = run(variables, image, dy);
    installFrugalGradients();
    const frugal = run(variables, image, dy);
    frugal.result.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(own.result.grads[i]!)));
    expect(dy.isDisposed).toBe(false);
    expect(frugal.leaked).toBe(0);
    dy.dispose();
  });

  it('leaves higher-order gradients to tfjs (they need what the frugal pass frees)', () => {
    installFrugalGradients();
    // d2/dx2 of x^3 at 2 = 6 * 2 = 12.
    const second = tf.grad((x: tf.Tensor) => tf.grad((z: tf.Tensor) => tf.pow(z, 3))(x))(tf.scalar(2));
    expect(second.dataSync()[0]).toBeCloseTo(12, 5);
    second.dispose();
  });
});
