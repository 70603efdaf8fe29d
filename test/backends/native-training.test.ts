/**
 * Training a compiled Prob. U-Net with the native kernels: the gradients of every variable equal
 * the cpu backend's; a seeded run repeats its losses exactly; steps leak neither tensors, nor wasm
 * heap, nor native memory (the addon's own counters). Skipped with the reason where the addon is
 * not built (see native-kernels.test.ts; PUNET_REQUIRE_NATIVE=1 makes that a failure).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { loadNativeAddon } from '../../runtime/backends/native.js';
import { tinySpec } from '../compiler/helpers.js';
import { maxAbs, onBackend, relErr } from './helpers.js';

const load = loadNativeAddon();
const registry = createRegistry();

it.runIf(!load.ok)(`native kernels unavailable, tests skipped: ${load.ok ? '' : load.reason}`, () => {
  expect(process.env.PUNET_REQUIRE_NATIVE === '1', 'PUNET_REQUIRE_NATIVE=1 but the native addon did not load').toBe(false);
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

type Spec = ReturnType<typeof tinySpec>;

function gradients(spec: Spec): { loss: number; grads: Map<string, Float32Array> } {
  const model = compileModel(spec, registry, { seed: 12 });
  const training = compileTraining(spec, registry);
  const [h, w] = spec.input.size;
  try {
    return tf.tidy((() => {
      const images = tf.randomUniform([3, h, w, 1], 0, 1, 'float32', 3);
      const masks = tf.cast(tf.greater(tf.randomUniform([3, h, w], 0, 1, 'float32', 4), 0.5), 'int32');
      const { value, grads } = tf.variableGrads(() => training.lossTerms(model, images, masks, 5, {}).loss, model.variables.map((v) => v.variable));
      const byName = new Map(model.variables.map(({ name, variable: v }) => [name, grads[v.name]!.dataSync() as Float32Array]));
      return { loss: value.dataSync()[0]!, grads: byName };
    }) as never) as unknown as { loss: number; grads: Map<string, Float32Array> };
  } finally {
    model.dispose();
  }
}

/** Trains `steps` steps from a fixed seed; calls `each` after every step. Returns the losses. */
async function train(spec: Spec, steps: number, each: (step: number) => void = () => {}): Promise<number[]> {
  const model = compileModel(spec, registry, { seed: 21 });
  const training = compileTraining(spec, registry);
  const handle = training.createOptimizer();
  const [h, w] = spec.input.size;
  const images = tf.randomUniform([4, h, w, 1], 0, 1, 'float32', 31);
  const masks = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([4, h, w], 0, 1, 'float32', 32), 0.6), 'int32'));
  const losses: number[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      losses.push((await trainStep(model, training, handle, { images, masks, seed: 100 + s, step: s, state: {} })).loss);
      each(s + 1);
    }
  } finally {
    handle.optimizer.dispose();
    tf.dispose([images, masks]);
    model.dispose();
  }
  return losses;
}

describe.runIf(load.ok)('training on the native kernels', () => {
  const addon = load.ok ? load.addon : (undefined as never);
  // Odd sizes: asymmetric SAME padding, odd pooling, resize back to the skip size.
  const spec = tinySpec({ size: [13, 11], widths: [3, 5, 7] });

  it('gradients of every variable equal the cpu backend', async () => {
    const cpu = await onBackend('cpu', () => gradients(spec));
    const before = addon.stats().calls;
    const native = await onBackend('wasm', () => gradients(spec));
    expect(addon.stats().calls - before, 'native kernel calls').toBeGreaterThan(20);
    expect(native.loss).toBeCloseTo(cpu.loss, 4);
    expect(native.grads.size).toBe(cpu.grads.size);
    const bad: Record<string, number> = {};
    for (const [name, g] of cpu.grads) {
      expect(maxAbs(g), name).toBeGreaterThan(0);
      const err = relErr(native.grads.get(name)!, g);
      if (!(err < 1e-3)) bad[name] = err;
    }
    expect(bad, 'max |native - cpu| / max |cpu| per variable').toEqual({});
  });

  it('the same seed gives the same losses over 20 steps', async () => {
    const first = await onBackend('wasm', () => train(spec, 20));
    const second = await onBackend('wasm', () => train(spec, 20));
    expect(first.every(Number.isFinite)).toBe(true);
    expect(new Set(first).size, 'the loss changes as it trains').toBeGreaterThan(1);
    expect(second).toEqual(first);
  });

  it('50 steps leak no tensors, no wasm heap and no native memory', async () => {
    const marks: Array<{ tensors: number; bytes: number; heap: number; native: number; primitives: number }> = [];
    await onBackend('wasm', () =>
      train(spec, 50, (step) => {
        if (step !== 10 && step !== 50) return;
        const stats = addon.stats();
        marks.push({
          tensors: tf.memory().numTensors,
          bytes: tf.memory().numBytes,
          heap: ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length,
          native: stats.bufferBytes,
          primitives: stats.convPrimitives + stats.matmulPrimitives + stats.sumPrimitives,
        });
      }),
    );
    const [at10, at50] = marks;
    expect(at50).toEqual(at10);
  });
});
