// The compiled LIDC-architecture Prob U-Net (docs/contract/prob-unet-lidc.resolved.json: U-Net,
// prior and posterior with 4 levels of 3 convs, latent heads, 3-layer fcomb, cross-entropy + KL +
// L2, Adam) on webgpu against the cpu reference: the training loss, the gradient of every
// variable, and the losses of a few optimiser steps. Every op in shaders (WEBGPU_CPU_FORWARD off).
// Input reduced to 32x32 and widths to 8/16/16/16: the cpu reference backend needs ~100 s of CPU
// for one step at the full widths, even at 32x32.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import type { ResolvedSpec } from '../../spec/types.js';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { webgpuErrors } from '../../runtime/backends/webgpu.js';
import { createRegistry } from '../../plugins/index.js';
import { acquireWebGPU, onBackend, relativeMaxDiff, repoRoot } from './support/webgpu-env.js';
import { normalArray, seededRandom } from './support/small-unet.js';

const gpu = await acquireWebGPU();
const registry = createRegistry();

const SIZE = 32;
const BATCH = 2;
const STEPS = 3;
const WIDTHS = [8, 16, 16, 16];

function smallLidcSpec(): ResolvedSpec {
  const spec = JSON.parse(readFileSync(join(repoRoot, 'docs/contract/prob-unet-lidc.resolved.json'), 'utf8')) as ResolvedSpec;
  spec.input = { ...spec.input, size: [SIZE, SIZE] };
  for (const role of ['unet', 'prior', 'posterior'] as const) spec[role] = { ...spec[role]!, widths: WIDTHS };
  spec.combiner = { ...spec.combiner!, width: WIDTHS[0] };
  return spec;
}

/** A seeded batch: smooth-ish random images and a mask thresholded from them. */
function batchArrays(seed: number): { images: Float32Array; masks: Int32Array } {
  const images = normalArray(BATCH * SIZE * SIZE, 1, seededRandom(seed));
  const masks = new Int32Array(images.length);
  for (let i = 0; i < images.length; i++) masks[i] = images[i]! > 0.3 ? 1 : 0;
  return { images, masks };
}

interface Run {
  initial: Map<string, Float32Array>;
  loss: number;
  grads: Map<string, Float32Array>;
  stepLosses: number[];
}

/** On `backend`: compile, start from `initial` weights (the cpu run's, so both runs start from
 *  the same numbers whatever the initialisers do per backend), one gradient, STEPS steps. */
async function run(backend: 'cpu' | 'webgpu', initial?: Map<string, Float32Array>): Promise<Run> {
  return onBackend(backend, async () => {
    const spec = smallLidcSpec();
    const model: CompiledModel = compileModel(spec, registry, { seed: 5 });
    const training = compileTraining(spec, registry);
    const arrays = batchArrays(9);
    const images = tf.tensor4d(arrays.images, [BATCH, SIZE, SIZE, 1]);
    const masks = tf.tensor3d(arrays.masks, [BATCH, SIZE, SIZE], 'int32');
    try {
      const start = new Map<string, Float32Array>();
      for (const { name, variable: v } of model.variables) {
        const given = initial?.get(name);
        if (given) tf.tidy(() => v.assign(tf.tensor(given, v.shape)));
        start.set(name, (await v.data()) as Float32Array);
      }
      const state = training.initialObjectiveState();
      const { value, grads } = tf.variableGrads(
        () => training.lossTerms(model, images, masks, 17, state).loss,
        model.variables.map((v) => v.variable),
      );
      const result: Run = { initial: start, loss: (await value.data())[0]!, grads: new Map(), stepLosses: [] };
      for (const { name, variable: v } of model.variables) {
        if (grads[v.name]) result.grads.set(name, (await grads[v.name]!.data()) as Float32Array);
      }
      tf.dispose([value, ...Object.values(grads)]);

      const handle = training.createOptimizer();
      for (let step = 0; step < STEPS; step++) {
        result.stepLosses.push((await trainStep(model, training, handle, { images, masks, seed: 100 + step, step, state })).loss);
      }
      handle.optimizer.dispose();
      return result;
    } finally {
      tf.dispose([images, masks]);
      model.dispose();
    }
  });
}

describe.skipIf(!gpu.available)('compiled LIDC Prob U-Net at 32x32 (widths 8/16/16/16), webgpu vs cpu', () => {
  it('loss, every gradient and a few training steps equal the cpu backend', async () => {
    const cpu = await run('cpu');
    const tensorsBefore = await onBackend('webgpu', async () => tf.memory().numTensors);
    const webgpu = await run('webgpu', cpu.initial);
    expect(await onBackend('webgpu', async () => tf.memory().numTensors)).toBe(tensorsBefore);

    expect(webgpuErrors()).toEqual([]);
    expect(cpu.grads.size).toBe(cpu.initial.size);
    expect(Math.abs(webgpu.loss - cpu.loss)).toBeLessThan(1e-4 * Math.abs(cpu.loss));
    let worst = { name: '', diff: 0 };
    for (const [name, g] of cpu.grads) {
      expect(g.some((v) => v !== 0), `${name} has a non-zero gradient`).toBe(true);
      const diff = relativeMaxDiff(webgpu.grads.get(name)!, g);
      if (diff > worst.diff) worst = { name, diff };
    }
    console.log(`[gpu tests] LIDC 32x32: loss cpu ${cpu.loss} webgpu ${webgpu.loss}; worst gradient ${worst.name} rel. diff ${worst.diff.toExponential(2)}`);
    expect(worst.diff, worst.name).toBeLessThan(1e-3);
    expect(cpu.stepLosses[STEPS - 1]!).toBeLessThan(cpu.stepLosses[0]!);
    for (let i = 0; i < STEPS; i++) {
      expect(Math.abs(webgpu.stepLosses[i]! - cpu.stepLosses[i]!), `step ${i}`).toBeLessThan(1e-4 * Math.abs(cpu.stepLosses[i]!));
    }
  }, 300_000);
});
