import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { registerCpuKernelFixes } from '../../runtime/backends/cpu-fixes.js';

describe('cpu ResizeBilinearGrad on non-square maps', () => {
  it('has the input shape and is the adjoint of the resize: <resize(x), dy> = <x, grad>', async () => {
    await tf.setBackend('cpu');
    registerCpuKernelFixes();
    registerCpuKernelFixes(); // idempotent
    const [lhs, rhs, shape] = tf.tidy(() => {
      const x = tf.randomUniform([2, 7, 6, 3], -1, 1, 'float32', 1);
      const dy = tf.randomUniform([2, 13, 11, 3], -1, 1, 'float32', 2);
      const resize = (t: tf.Tensor) => tf.image.resizeBilinear(t as tf.Tensor4D, [13, 11], true);
      const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resize(t), dy)))(x);
      return [tf.sum(tf.mul(resize(x), dy)).dataSync()[0]!, tf.sum(tf.mul(x, grad)).dataSync()[0]!, grad.shape];
    });
    expect(shape).toEqual([2, 7, 6, 3]);
    expect(rhs).toBeCloseTo(lhs as number, 3);
  });
});

describe('2x2 SAME average pooling on odd sizes', () => {
  it('matches tf.avgPool forward and has the adjoint gradient on cpu', async () => {
    const { downsample } = await import('../../plugins/toolkit/nn.js');
    await tf.setBackend('cpu');
    for (const shape of [
      [2, 7, 6, 3],
      [1, 13, 11, 2],
      [1, 5, 5, 1],
    ]) {
      const [forwardDiff, lhs, rhs] = tf.tidy(() => {
        const x = tf.randomUniform(shape, -1, 1, 'float32', 1);
        const pool = (t: tf.Tensor) => downsample(tf, t, 'avgpool');
        const y = pool(x);
        const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 2);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t), dy)))(x);
        return [
          tf.max(tf.abs(tf.sub(y, tf.avgPool(x as tf.Tensor4D, 2, 2, 'same')))).dataSync()[0]!,
          tf.sum(tf.mul(y, dy)).dataSync()[0]!,
          tf.sum(tf.mul(x, g)).dataSync()[0]!,
        ];
      });
      expect(forwardDiff, shape.join('x')).toBeLessThan(1e-6);
      expect(rhs, shape.join('x')).toBeCloseTo(lhs!, 4);
    }
  });
});
