import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileModel, type CompiledModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { createRegistry } from '../../plugins/index.js';
import { tinySpec } from './helpers.js';

const registry = createRegistry();
const B = 2;
const SIZE = 16;

function batch(seed: number) {
  return tf.tidy(() => ({
    images: tf.randomUniform([B, SIZE, SIZE, 1], 0, 1, 'float32', seed),
    masks: tf.cast(tf.greater(tf.randomUniform([B, SIZE, SIZE], 0, 1, 'float32', seed + 1), 0.6), 'int32'),
  }));
}

/** fcomb by the book: tile z, concat after the features, 1x1 convs (full kernels), logits. */
function naiveFcomb(model: CompiledModel, features: tf.Tensor4D, z: tf.Tensor2D): tf.Tensor4D {
  const v = (n: string) => model.variable(`combiner/${n}`)! as unknown as tf.Tensor4D;
  const [b, h, w] = features.shape;
  let x = tf.concat([features, tf.tile(tf.reshape(z, [b, 1, 1, -1]), [1, h, w, 1])], 3) as tf.Tensor4D;
  for (const name of ['conv1', 'conv2', 'conv3']) x = tf.relu(tf.add(tf.conv2d(x, v(`${name}/kernel`), 1, 'same'), v(`${name}/bias`))) as tf.Tensor4D;
  return tf.add(tf.conv2d(x, v('logits/kernel'), 1, 'same'), v('logits/bias'));
}

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

let model: CompiledModel;
let data: { images: tf.Tensor; masks: tf.Tensor };

beforeAll(async () => {
  await tf.setBackend('cpu');
  model = compileModel(tinySpec(), registry, { seed: 3 });
  data = batch(10);
});
afterAll(() => {
  model.dispose();
  tf.dispose([data.images, data.masks]);
});

describe('training forward', () => {
  it('returns logits [B, H, W, K] and one (posterior, prior) pair of [B, M]', () => {
    tf.tidy(() => {
      const out = model.segmenter.trainForward(data.images, data.masks, 5);
      expect(out.logits.shape).toEqual([B, SIZE, SIZE, 2]);
      expect(out.latents).toHaveLength(1);
      for (const d of [out.latents[0]!.posterior, out.latents[0]!.prior]) {
        expect(d.family).toBe('diag-gaussian');
        expect(d.params.mu!.shape).toEqual([B, 3]);
        expect(d.params.log_sigma!.shape).toEqual([B, 3]);
      }
    });
  });

  it('equals the U-Net features combined by a naive fcomb with the posterior sample', () => {
    const diff = tf.tidy(() => {
      const out = model.segmenter.trainForward(data.images, data.masks, 5);
      const unet = model.blocks.unet as unknown as { features(x: tf.Tensor): tf.Tensor4D };
      const z = out.latents[0]!.posterior.sample(1, 5).reshape([B, 3]) as tf.Tensor2D;
      return maxAbsDiff(out.logits, naiveFcomb(model, unet.features(data.images), z));
    });
    expect(diff).toBeLessThan(1e-4);
  });

  it('posterior sees the mask, the prior does not', () => {
    const [dPost, dPrior] = tf.tidy(() => {
      const other = tf.sub(1, data.masks);
      const a = model.segmenter.trainForward(data.images, data.masks, 5).latents[0]!;
      const b = model.segmenter.trainForward(data.images, other, 5).latents[0]!;
      return [maxAbsDiff(a.posterior.params.mu!, b.posterior.params.mu!), maxAbsDiff(a.prior.params.mu!, b.prior.params.mu!)];
    });
    expect(dPost).toBeGreaterThan(0);
    expect(dPrior).toBe(0);
  });
});

describe('backward', () => {
  it('gives finite, non-zero gradients for every variable', () => {
    const training = compileTraining(tinySpec(), registry);
    const names = model.variables.map((v) => v.name);
    const stats = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => training.lossTerms(model, data.images, data.masks, 5, {}).loss,
        model.variables.map((v) => v.variable),
      );
      return names.map((name) => {
        const g = grads[model.variable(name)!.name]!;
        return { name, finite: tf.all(tf.isFinite(g)).dataSync()[0], max: tf.max(tf.abs(g)).dataSync()[0]! };
      });
    });
    expect(stats).toHaveLength(names.length);
    for (const s of stats) {
      expect(s.finite, s.name).toBe(1);
      expect(s.max, s.name).toBeGreaterThan(0);
    }
  });

  it('matches a finite difference on the logits bias', () => {
    const training = compileTraining(tinySpec(), registry);
    const bias = model.variable('combiner/logits/bias')!;
    const loss = () => tf.tidy(() => training.lossTerms(model, data.images, data.masks, 5, {}).loss.dataSync()[0]!);
    const analytic = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => training.lossTerms(model, data.images, data.masks, 5, {}).loss, [bias]);
      return grads[bias.name]!.dataSync()[0]!;
    });
    const original = tf.clone(bias);
    const eps = 1e-2;
    const at = (delta: number) => {
      tf.tidy(() => bias.assign(tf.add(original, tf.tensor1d([delta, 0]))));
      return loss();
    };
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    bias.assign(original);
    original.dispose();
    expect(Math.abs(analytic)).toBeGreaterThan(1);
    expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.abs(analytic));
  });
});

describe('sampling', () => {
  it('runs the U-Net and prior once, then one combiner pass for all n samples', () => {
    const unet = model.blocks.unet as unknown as { features: (...a: unknown[]) => unknown };
    const combiner = model.blocks.combiner as unknown as { combine: (...a: unknown[]) => unknown };
    const prior = model.blocks.prior as unknown as { encode: (...a: unknown[]) => unknown };
    const unetSpy = vi.spyOn(unet, 'features');
    const combineSpy = vi.spyOn(combiner, 'combine');
    const priorSpy = vi.spyOn(prior, 'encode');
    try {
      const prepared = model.segmenter.prepare(data.images);
      expect(unetSpy).toHaveBeenCalledTimes(1);
      expect(priorSpy).toHaveBeenCalledTimes(1);
      const logits = model.segmenter.sample(prepared, 7, { seed: 11 });
      expect(logits.shape).toEqual([B, 7, SIZE, SIZE, 2]);
      expect(unetSpy).toHaveBeenCalledTimes(1);
      expect(priorSpy).toHaveBeenCalledTimes(1);
      expect(combineSpy).toHaveBeenCalledTimes(1);
      expect((combineSpy.mock.calls[0]![1] as tf.Tensor).shape).toEqual([B, 7, 3]);
      // Same z through decode gives the same logits; and the naive fcomb agrees per sample.
      const [dDecode, dNaive] = tf.tidy(() => {
        const z = prepared.prior.sample(7, 11);
        const decoded = model.segmenter.decode(prepared, z);
        const features = (model.blocks.unet as unknown as { features(x: tf.Tensor): tf.Tensor4D }).features(data.images);
        const sample3 = tf.squeeze(tf.slice(z, [0, 3, 0], [B, 1, 3]), [1]) as tf.Tensor2D;
        const naive = naiveFcomb(model, features, sample3);
        const got3 = tf.squeeze(tf.slice(logits, [0, 3, 0, 0, 0], [B, 1, SIZE, SIZE, 2]), [1]);
        return [maxAbsDiff(decoded, logits), maxAbsDiff(got3, naive)];
      });
      expect(dDecode).toBe(0);
      expect(dNaive).toBeLessThan(1e-4);
      // Samples differ from each other (the latent matters).
      const spread = tf.tidy(() => maxAbsDiff(tf.slice(logits, [0, 0], [B, 1]), tf.slice(logits, [0, 1], [B, 1])));
      expect(spread).toBeGreaterThan(0);
      logits.dispose();
      prepared.dispose();
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("perScale 'mean' decodes the prior mean n times", () => {
    const prepared = model.segmenter.prepare(data.images);
    const diff = tf.tidy(() => {
      const logits = model.segmenter.sample(prepared, 3, { seed: 1, perScale: ['mean'] });
      const z = tf.tile(tf.expandDims(prepared.prior.params.mu!, 1), [1, 3, 1]);
      return maxAbsDiff(logits, model.segmenter.decode(prepared, z));
    });
    prepared.dispose();
    expect(diff).toBe(0);
  });

  it('prepare / sample / dispose leave no tensors behind', () => {
    const before = tf.memory().numTensors;
    const prepared = model.segmenter.prepare(data.images);
    model.segmenter.sample(prepared, 4, { seed: 2 }).dispose();
    prepared.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// Smaller still for repeated steps: the cpu backend's filter gradient is slow.
const smallSpec = () => tinySpec({ size: [8, 8], widths: [2, 4] });
const smallBatch = () =>
  tf.tidy(() => ({
    images: tf.randomUniform([B, 8, 8, 1], 0, 1, 'float32', 1),
    masks: tf.cast(tf.greater(tf.randomUniform([B, 8, 8], 0, 1, 'float32', 2), 0.5), 'int32'),
  }));

describe('training step', () => {
  it('leaves no tensors behind and lowers the loss on a fixed batch', async () => {
    const spec = smallSpec();
    const small = smallBatch();
    spec.train.optimizer = { kind: 'adam', lr: 1e-3 };
    spec.train.schedule = { kind: 'constant' };
    const m = compileModel(spec, registry, { seed: 4 });
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    const step = (i: number) => trainStep(m, training, handle, { ...small, seed: 100, step: i, state: {} });
    const first = await step(0); // creates Adam's slot variables
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 1; i < 6; i++) last = await step(i);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(last.loss).toBeLessThan(first.loss);
    expect(first.loss).toBeCloseTo(first.reconstruction + first.kl + first.regularization, 3);
    handle.optimizer.dispose();
    m.dispose();
    tf.dispose([small.images, small.masks]);
  });
});

describe('determinism', () => {
  const weights = (m: CompiledModel) => m.variables.map((v) => Array.from(v.variable.dataSync()));

  it('the same seed gives identical weights and loss; another seed differs', async () => {
    const spec = smallSpec();
    const small = smallBatch();
    const a = compileModel(spec, registry, { seed: 21 });
    const b = compileModel(spec, registry, { seed: 21 });
    const c = compileModel(spec, registry, { seed: 22 });
    expect(weights(a)).toEqual(weights(b));
    expect(weights(a)).not.toEqual(weights(c));
    const training = compileTraining(spec, registry);
    const lossOf = async (m: CompiledModel) => {
      const h = training.createOptimizer();
      const r = await trainStep(m, training, h, { ...small, seed: 9, step: 0, state: {} });
      h.optimizer.dispose();
      return r.loss;
    };
    expect(await lossOf(a)).toBe(await lossOf(b));
    expect(weights(a)).toEqual(weights(b)); // after one identical Adam step too
    expect(await lossOf(c)).not.toBe(await lossOf(a));
    [a, b, c].forEach((m) => m.dispose());
    tf.dispose([small.images, small.masks]);
  });

  it('weights do not depend on the run seed of other variables (per-name seeds)', () => {
    const spec = tinySpec();
    const small = compileModel(spec, registry, { seed: 5 });
    const wider = tinySpec();
    wider.combiner = { ...wider.combiner!, layers: 4 };
    const big = compileModel(wider, registry, { seed: 5 });
    expect(Array.from(big.variable('unet/encoder/level0/conv1/kernel')!.dataSync())).toEqual(
      Array.from(small.variable('unet/encoder/level0/conv1/kernel')!.dataSync()),
    );
    small.dispose();
    big.dispose();
  });
});
