/**
 * The fused conv (conv + bias + relu/elu/linear as one FusedConv2D kernel, with the gradient
 * compiler/nn.ts registers for it) against the same layer written with tfjs's separate ops and
 * their own gradients: the same outputs and gradients for x, the kernel and the bias, on odd
 * shapes, on the cpu and the wasm backend; and the input's gradient is not computed when the
 * input is a constant.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../runtime/backends/wasm.js';
import { createConv, type Activation } from '../../plugins/toolkit/nn.js';
import { SeededParamFactory } from '../../compiler/params.js';

type Case = { n: number; h: number; w: number; cin: number; cout: number; k: number; activation: Activation };
const cases: Case[] = [
  { n: 1, h: 5, w: 7, cin: 1, cout: 3, k: 3, activation: 'relu' },
  { n: 3, h: 6, w: 5, cin: 7, cout: 2, k: 1, activation: 'relu' },
  { n: 2, h: 4, w: 3, cin: 3, cout: 7, k: 3, activation: 'linear' },
  { n: 2, h: 5, w: 4, cin: 3, cout: 5, k: 3, activation: 'elu' },
];

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** Output and d(sum(out * r))/d(x, kernel, bias) of one conv layer, fused or separate ops. */
function run(c: Case, fused: boolean) {
  const store = new Map();
  const conv = createConv(tf, new SeededParamFactory(tf, 7, store), 'conv', {
    kernelSize: c.k,
    inChannels: c.cin,
    outChannels: c.cout,
    init: { kind: 'he-normal-truncated' },
    bias: { kind: 'truncated-normal', std: 0.5 },
  });
  try {
    return tf.tidy(() => {
      const x = tf.randomNormal([c.n, c.h, c.w, c.cin], 0, 1, 'float32', 1);
      const r = tf.randomNormal([c.n, c.h, c.w, c.cout], 0, 1, 'float32', 2);
      const layer = (xx: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) => {
        if (fused) return conv.apply(xx, c.activation);
        const z = tf.add(tf.conv2d(xx as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same'), bias);
        return c.activation === 'relu' ? tf.relu(z) : c.activation === 'elu' ? tf.elu(z) : z;
      };
      const out = layer(x, conv.kernel, conv.bias);
      const [dx, dk, db] = tf.grads((xx, k, b) => tf.sum(tf.mul(layer(xx!, k!, b!), r)))([x, conv.kernel, conv.bias]);
      return [out, dx!, dk!, db!].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    tf.dispose([conv.kernel, conv.bias]);
  }
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('fused conv2d gradient', () => {
  for (const backend of ['cpu', 'wasm']) {
    it(`equals conv + add + relu/elu on ${backend}`, async () => {
      if (backend === 'wasm') await activateWasm();
      else await tf.setBackend('cpu');
      for (const c of cases) {
        const fused = run(c, true);
        const separate = run(c, false);
        fused.forEach((values, i) => expect(maxRelDiff(separate[i]!, values), `${JSON.stringify(c)} output ${i}`).toBeLessThan(1e-5));
      }
    });
  }

  it('does not compute the gradient of a constant input', async () => {
    await tf.setBackend('cpu');
    const store = new Map();
    const conv = createConv(tf, new SeededParamFactory(tf, 7, store), 'conv', {
      kernelSize: 3,
      inChannels: 2,
      outChannels: 4,
      init: { kind: 'he-normal-truncated' },
      bias: { kind: 'zeros' },
    });
    const counted: string[] = [];
    const x = tf.randomNormal([2, 5, 5, 2], 0, 1, 'float32', 3);
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(conv.apply(x, 'relu')) as tf.Scalar, [conv.kernel, conv.bias]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    counted.push(...profile.kernels.map((k) => k.name));
    expect(counted).toContain('Conv2DBackpropFilter');
    expect(counted).not.toContain('Conv2DBackpropInput');
    expect(counted.filter((k) => k === 'FusedConv2D')).toHaveLength(1);
    tf.dispose([x, conv.kernel, conv.bias]);
  });
});
