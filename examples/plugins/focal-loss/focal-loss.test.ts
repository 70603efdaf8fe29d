/**
 * The focal-loss example plugin: hand-computed values, gamma = 0 is cross-entropy, class weights,
 * option validation through the compiler, and one training step of a tiny model with it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import plugin from './index.js';
import { loadPlugins } from '../../../compiler/plugin-loader.js';
import { createRegistry } from '../../../plugins/index.js';
import { compileModel } from '../../../compiler/compile.js';
import { compileTraining, trainStep } from '../../../compiler/training.js';
import { tinyFlatSpec, squareBatch } from '../../../test/plugins/helpers.js';

const focal = plugin.losses!.focal!;
const here = dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Batch of 2 images of 1x2 pixels, 2 classes. */
const logits = [
  [[[2, 0], [0, 1]]],
  [[[0, 0], [1, -1]]],
];
const labels = [[[0, 0]], [[1, 0]]];

function value(options: Record<string, unknown>): number {
  return tf.tidy(() => focal.compute({ tf, options: { gamma: 2, reduction: 'sum-per-image', ...options }, logits: tf.tensor4d(logits), labels: tf.tensor3d(labels, undefined, 'int32') }).dataSync()[0]!);
}

/** p of the true class per pixel, in plain JS, in batch order. */
function trueProbabilities(): number[][] {
  return logits.map((image, b) =>
    image[0]!.map((pixel, x) => {
      const z = pixel.map(Math.exp);
      return z[labels[b]![0]![x]!]! / (z[0]! + z[1]!);
    }),
  );
}

describe('focal-loss plugin', () => {
  it('matches -w (1 - p)^gamma log p summed per image, mean over the batch', () => {
    const p = trueProbabilities();
    const perImage = (gamma: number, w: number[] = [1, 1]) =>
      p.map((image, b) => image.reduce((s, q, x) => s - w[labels[b]![0]![x]!]! * (1 - q) ** gamma * Math.log(q), 0));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(value({ gamma: 2 })).toBeCloseTo(mean(perImage(2)), 5);
    expect(value({ gamma: 0 })).toBeCloseTo(mean(perImage(0)), 5);
    expect(value({ gamma: 1, class_weights: [0.5, 3] })).toBeCloseTo(mean(perImage(1, [0.5, 3])), 5);
    expect(value({ gamma: 2, reduction: 'mean' })).toBeCloseTo(mean(perImage(2)) / 2, 5);
    // Focusing only ever lowers the loss of a pixel (p < 1).
    expect(value({ gamma: 2 })).toBeLessThan(value({ gamma: 0 }));
  });

  it('gamma = 0 equals the built-in cross-entropy', () => {
    const registry = createRegistry();
    const ce = registry.get('losses', 'cross-entropy')!.contribution;
    const builtin = tf.tidy(() => ce.compute({ tf, options: { reduction: 'sum-per-image' }, logits: tf.tensor4d(logits), labels: tf.tensor3d(labels, undefined, 'int32') }).dataSync()[0]!);
    expect(value({ gamma: 0 })).toBeCloseTo(builtin, 5);
  });

  it('validates options through the compiler: unknown names, class weights against input.classes', async () => {
    const registry = createRegistry();
    await loadPlugins(['./index.js'], registry, { fromDir: here });
    const spec = tinyFlatSpec();
    spec.loss.reconstruction = { kind: 'focal-loss/focal', class_weights: [1, 2, 3] };
    expect(() => compileTraining(spec, registry)).toThrow(/loss\.reconstruction\.class_weights: .*needs one weight per class \(2, background first\), got 3/);
    spec.loss.reconstruction = { kind: 'focal-loss/focal', gama: 2 };
    expect(() => compileTraining(spec, registry)).toThrow(/loss\.reconstruction\.gama: unknown option 'gama'.*plugin 'focal-loss'/);
    spec.loss.reconstruction = { kind: 'focal-loss/focal', class_weights: [0, 0] };
    expect(() => compileTraining(spec, registry)).toThrow(/at least one weight must be positive/);
  });

  it('trains a tiny flat model for a step', async () => {
    const registry = createRegistry();
    await loadPlugins(['./index.js'], registry, { fromDir: here });
    const spec = tinyFlatSpec();
    spec.loss.reconstruction = { kind: 'focal-loss/focal', gamma: 2, class_weights: [1, 3] };
    const model = compileModel(spec, registry, { seed: 2 });
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    const { images, masks } = squareBatch(tf, 2, 16);
    const before = model.variables.map((v) => v.variable).map((v) => v.dataSync().slice());
    const result = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state: training.initialObjectiveState() });
    expect(Number.isFinite(result.reconstruction) && result.reconstruction > 0).toBe(true);
    const changed = model.variables.map((v) => v.variable).some((v, i) => v.dataSync().some((x, j) => x !== before[i]![j]));
    expect(changed).toBe(true);
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
  });
});
