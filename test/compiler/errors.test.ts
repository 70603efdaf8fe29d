import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining } from '../../compiler/training.js';
import { CompileError } from '../../compiler/errors.js';
import { createRegistry } from '../../plugins/index.js';
import { definePlugin } from '../../compiler/api.js';
import { Registry } from '../../compiler/registry.js';
import { builtinPlugins } from '../../plugins/index.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { tinySpec } from './helpers.js';

const registry = createRegistry();

function compileError(spec: ResolvedSpec, reg = registry): CompileError {
  const before = tf.memory().numTensors;
  try {
    compileModel(spec, reg, { seed: 1 }).dispose();
  } catch (err) {
    // A failed compile frees what it had built.
    expect(tf.memory().numTensors).toBe(before);
    expect(err).toBeInstanceOf(CompileError);
    return err as CompileError;
  }
  throw new Error('expected a CompileError');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('compile errors name the spec path', () => {
  it('too many levels for the input size', () => {
    const spec = tinySpec({ size: [16, 16], widths: [2, 2, 2, 2, 2, 2] });
    const err = compileError(spec);
    expect(err.path).toBe('unet.widths');
    expect(err.message).toMatch(/level 5 would pool a 1x1 map/);
    expect(err.plugin).toBe('punet-prob-unet');
  });

  it('unknown kind, with the known ones', () => {
    const spec = tinySpec();
    spec.combiner = { kind: 'fcombb' };
    const err = compileError(spec);
    expect(err.path).toBe('combiner.kind');
    expect(err.message).toMatch(/unknown block kind 'fcombb' \(known: [^)]*\bfcomb\b[^)]*\)/);
    expect(err.message).toMatch(/known: [^)]*\bunet\b/);
  });

  it('unknown option, with the known ones', () => {
    const spec = tinySpec();
    spec.latent = { ...spec.latent!, sizee: 3 };
    const err = compileError(spec);
    expect(err.path).toBe('latent.sizee');
    expect(err.message).toMatch(/unknown option 'sizee' \(known: size, log_sigma_bound, head_init_std\)/);
  });

  it('bad option value', () => {
    const spec = tinySpec();
    spec.unet = { ...spec.unet!, widths: [4, 0] };
    expect(compileError(spec).path).toBe('unet.widths.1');
  });

  it('a prior that would see the mask', () => {
    const spec = tinySpec();
    spec.prior = { ...spec.prior!, sees: 'image+mask' };
    const err = compileError(spec);
    expect(err.path).toBe('prior.sees');
    expect(err.message).toMatch(/the prior must not see the mask/);
  });

  it('a block kind in a role it cannot fill', () => {
    const spec = tinySpec();
    spec.latent = { kind: 'unet' };
    const err = compileError(spec);
    expect(err.path).toBe('latent.kind');
    expect(err.message).toMatch(/cannot be a latent \(it can be: unet\)/);
  });

  it('a missing required role', () => {
    const spec = tinySpec();
    delete spec.combiner;
    expect(compileError(spec).path).toBe('combiner');
  });

  it('a plugin build failure is reported at its block', () => {
    const broken = definePlugin({
      name: 'broken',
      version: '1.0.0',
      punetApi: '^2.0.0',
      blocks: {
        enc: {
          description: 'throws',
          roles: ['prior'],
          options: { type: 'object', additionalProperties: false, properties: {} },
          build: () => {
            throw new Error('boom');
          },
        },
      },
    });
    const reg = new Registry();
    for (const p of builtinPlugins) reg.register(p, { builtin: true });
    reg.register(broken);
    const spec = tinySpec();
    spec.prior = { kind: 'broken/enc' };
    const err = compileError(spec, reg);
    expect(err.path).toBe('prior');
    expect(err.message).toMatch(/'broken\/enc' \(plugin 'broken'\) failed to build: boom/);
  });

  it('piecewise schedule needs one more value than boundaries', () => {
    const spec = tinySpec();
    spec.train.schedule = { kind: 'piecewise', boundaries: [10, 20], values: [1e-3, 1e-4] };
    expect(() => compileTraining(spec, registry)).toThrow(CompileError);
    try {
      compileTraining(spec, registry);
    } catch (err) {
      expect((err as CompileError).path).toBe('train.schedule.values');
      expect((err as CompileError).message).toMatch(/one more value than boundaries: 2 boundaries, so 3 values \(got 2\)/);
    }
  });
});

describe('training settings', () => {
  it('piecewise rates switch at the boundaries; adam takes the scheduled rate', () => {
    const spec = tinySpec();
    const training = compileTraining(spec, registry);
    expect([0, 79_999, 80_000, 160_000, 240_000, 999_999].map((s) => training.learningRate(s))).toEqual([
      1e-4, 1e-4, 5e-5, 1e-5, 5e-7, 5e-7,
    ]);
    const handle = training.createOptimizer();
    handle.setLearningRate(5e-5);
    expect((handle.optimizer as unknown as { learningRate: number }).learningRate).toBe(5e-5);
    handle.optimizer.dispose();
  });

  it('schema defaults are applied', () => {
    const spec = tinySpec();
    spec.train.optimizer = { kind: 'adam' };
    spec.loss.objective = { kind: 'weighted' };
    const training = compileTraining(spec, registry);
    expect(training.optimizer.options).toEqual({ lr: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    expect(training.objective.options).toEqual({ beta: 1, warmup_steps: 0 });
    // The spec itself is not mutated.
    expect(spec.train.optimizer).toEqual({ kind: 'adam' });
  });
});
