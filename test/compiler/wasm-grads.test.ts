/**
 * The compiled model's gradients on wasm (with this project's training kernels) equal the cpu
 * backend's, for every variable, on a tiny odd-sized input (odd sizes exercise SAME pooling and
 * the resize back to the skip size).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../runtime/backends/wasm.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { tinySpec } from './helpers.js';

const registry = createRegistry();

function gradients(spec: ReturnType<typeof tinySpec>, backend: string): { loss: number; grads: Map<string, Float32Array> } {
  const model = compileModel(spec, registry, { seed: 12 });
  const training = compileTraining(spec, registry);
  const [h, w] = spec.input.size;
  try {
    // The result holds plain numbers; tidy only disposes the tensors made inside.
    return tf.tidy((() => {
      const images = tf.randomUniform([2, h, w, 1], 0, 1, 'float32', 3);
      const masks = tf.cast(tf.greater(tf.randomUniform([2, h, w], 0, 1, 'float32', 4), 0.5), 'int32');
      const { value, grads } = tf.variableGrads(() => training.lossTerms(model, images, masks, 5, {}).loss, model.variables.map((v) => v.variable));
      expect(tf.getBackend()).toBe(backend);
      const byName = new Map(model.variables.map(({ name, variable: v }) => [name, grads[v.name]!.dataSync() as Float32Array]));
      return { loss: value.dataSync()[0]!, grads: byName };
    }) as never) as unknown as { loss: number; grads: Map<string, Float32Array> };
  } finally {
    model.dispose();
  }
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm vs cpu', () => {
  it('same loss and gradients for every variable', async () => {
    const spec = tinySpec({ size: [13, 11], widths: [3, 5, 6] });
    await tf.setBackend('cpu');
    const cpu = gradients(spec, 'cpu');
    await activateWasm();
    const wasm = gradients(spec, 'wasm');
    expect(wasm.loss).toBeCloseTo(cpu.loss, 2);
    expect(wasm.grads.size).toBe(cpu.grads.size);
    const relative: Record<string, number> = {};
    for (const [name, g] of cpu.grads) {
      const other = wasm.grads.get(name)!;
      let scale = 0;
      let diff = 0;
      for (let k = 0; k < g.length; k++) {
        scale = Math.max(scale, Math.abs(g[k]!));
        diff = Math.max(diff, Math.abs(g[k]! - other[k]!));
      }
      expect(scale, name).toBeGreaterThan(0);
      relative[name] = diff / scale;
    }
    const bad = Object.entries(relative).filter(([, r]) => !(r < 1e-3));
    expect(bad, 'max |wasm - cpu| / max |cpu| per variable').toEqual([]);
  });
});
