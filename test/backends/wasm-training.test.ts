/**
 * Training on wasm: a small network with every op of the Prob. U-Net (3x3 and 1x1 convs, 2x2
 * average pooling on odd sizes, bilinear align-corners resize, concat, tiled latent, ReLU,
 * softmax cross-entropy, KL-style exp/log terms, means) has the same gradient for every variable
 * on wasm as on cpu; every kernel its training step uses exists on wasm; repeated steps leak
 * neither tensors nor wasm memory.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { onBackend, relErr, seededValues } from './helpers.js';

const SHAPES: Record<string, number[]> = {
  c1: [3, 3, 1, 4], b1: [4],
  c2: [3, 3, 4, 4], b2: [4],
  c3: [3, 3, 4, 6], b3: [6], // level 1, after pooling
  c4: [3, 3, 10, 4], b4: [4], // decoder conv on concat(upsampled 6, skip 4)
  f1: [1, 1, 4 + 3, 5], fb1: [5], // combiner 1x1 on concat(features, tiled z with 3 dims)
  f2: [1, 1, 5, 2], fb2: [2], // logits, 2 classes
  mu: [3], logSigma: [3],
};

type Params = Record<string, tf.Variable>;

function makeParams(): Params {
  const params: Params = {};
  Object.entries(SHAPES).forEach(([name, shape], k) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = seededValues(size, 100 + k).map((v) => v * 0.5);
    params[name] = tf.variable(tf.tensor(values, shape), true, `${name}_${Math.random()}`);
  });
  return params;
}

function conv(x: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D {
  return tf.relu(tf.add(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), b)) as tf.Tensor4D;
}

function lossOf(p: Params, x: tf.Tensor4D, labels: tf.Tensor4D, eps: tf.Tensor2D): tf.Scalar {
  const [n, h, w] = x.shape;
  const l0 = conv(conv(x, p.c1!, p.b1!), p.c2!, p.b2!);
  const l1 = conv(tf.avgPool(l0, 2, 2, 'same'), p.c3!, p.b3!);
  const up = tf.image.resizeBilinear(l1, [h, w], true);
  const feat = conv(tf.concat([up, l0], 3), p.c4!, p.b4!);
  const sigma = tf.exp(p.logSigma!);
  const z = tf.add(p.mu!, tf.mul(sigma, eps)); // [n, 3], reparameterised
  const tiled = tf.tile(tf.reshape(z, [n, 1, 1, 3]), [1, h, w, 1]);
  const hidden = conv(tf.concat([feat, tiled], 3) as tf.Tensor4D, p.f1!, p.fb1!);
  const logits = tf.add(tf.conv2d(hidden, p.f2 as unknown as tf.Tensor4D, 1, 'valid'), p.fb2!);
  const ce = tf.losses.softmaxCrossEntropy(tf.reshape(labels, [-1, 2]), tf.reshape(logits, [-1, 2]), undefined, undefined, tf.Reduction.SUM);
  const kl = tf.sum(tf.sub(tf.mul(0.5, tf.add(tf.square(sigma), tf.square(p.mu!))), tf.add(p.logSigma!, 0.5)));
  return tf.add(tf.div(ce, n), kl) as tf.Scalar;
}

function inputs(n: number, h: number, w: number) {
  const x = tf.tensor4d(seededValues(n * h * w, 7), [n, h, w, 1]);
  const cls = seededValues(n * h * w, 8).map((v) => (v > 0 ? 1 : 0));
  const labels = tf.oneHot(tf.tensor1d(Array.from(cls), 'int32'), 2).reshape([n, h, w, 2]) as tf.Tensor4D;
  const eps = tf.tensor2d(seededValues(n * 3, 9), [n, 3]);
  return { x, labels, eps };
}

async function gradientsOn(backend: 'cpu' | 'wasm', n: number, h: number, w: number) {
  return onBackend(backend, () => {
    const p = makeParams();
    const data = inputs(n, h, w);
    const { value, grads } = tf.variableGrads(() => lossOf(p, data.x, data.labels, data.eps), Object.values(p));
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(p)) out[name] = grads[v.name]!.dataSync() as Float32Array;
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads), ...Object.values(p), data.x, data.labels, data.eps]);
    return { loss, grads: out };
  });
}

describe('training a small Prob. U-Net-shaped network on wasm', () => {
  it.each([
    [1, 9, 11],
    [3, 8, 7],
  ])('batch %i, %ix%i input: loss and the gradient of every variable equal cpu', async (n, h, w) => {
    const cpu = await gradientsOn('cpu', n, h, w);
    const wasm = await gradientsOn('wasm', n, h, w);
    expect(Math.abs(wasm.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-5);
    for (const name of Object.keys(SHAPES)) {
      expect(relErr(wasm.grads[name]!, cpu.grads[name]!), name).toBeLessThan(1e-4);
    }
  });

  it('every kernel a training step uses (forward, gradients, Adam) exists on wasm', async () => {
    const used = await onBackend('cpu', async () => {
      const p = makeParams();
      const data = inputs(2, 8, 8);
      const adam = tf.train.adam(1e-3);
      const info = await tf.profile(() => {
        tf.dispose(adam.minimize(() => lossOf(p, data.x, data.labels, data.eps), true)!);
      });
      adam.dispose();
      tf.dispose([...Object.values(p), data.x, data.labels, data.eps]);
      return new Set(info.kernels.map((k) => k.name).filter((name) => tf.getKernel(name, 'cpu') !== undefined));
    });
    await onBackend('wasm', () => undefined); // loads wasm and registers the training kernels
    expect(used.has('Conv2DBackpropFilter')).toBe(true);
    expect(used.has('ResizeBilinearGrad')).toBe(true);
    expect(used.has('AvgPoolGrad')).toBe(true);
    const missing = [...used].filter((name) => tf.getKernel(name, 'wasm') === undefined);
    expect(missing).toEqual([]);
  });

  it('repeated Adam steps leak no tensors and do not grow wasm memory', async () => {
    await onBackend('wasm', async () => {
      const backend = tf.backend() as BackendWasm;
      const p = makeParams();
      const data = inputs(2, 9, 9);
      const adam = tf.train.adam(1e-3);
      const step = () => tf.dispose(adam.minimize(() => lossOf(p, data.x, data.labels, data.eps), true)!);
      step(); // Adam creates its moment variables on the first step
      step();
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
      for (let i = 0; i < 5; i++) step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
      expect((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length).toBe(heap);
      adam.dispose();
      tf.dispose([...Object.values(p), data.x, data.labels, data.eps]);
    });
  });

  it('the gradient kernels free every intermediate (numDataIds and heap stable over calls)', async () => {
    await onBackend('wasm', () => {
      const backend = tf.backend() as BackendWasm;
      const x = tf.tensor4d(seededValues(2 * 13 * 11 * 5, 1), [2, 13, 11, 5]);
      const w = tf.tensor4d(seededValues(9 * 5 * 3, 2), [3, 3, 5, 3]);
      const run = (stride: number) => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')));
        tf.dispose(g([x, w]));
      };
      run(1);
      run(2);
      const tensors = tf.memory().numTensors;
      const dataIds = backend.numDataIds();
      const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
      for (let i = 0; i < 10; i++) {
        run(1);
        run(2);
      }
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(dataIds);
      expect((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length).toBe(heap);
      tf.dispose([x, w]);
    });
  });
});
