import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PunetPlugin } from '../../compiler/api.js';
import { listCheckpoints, readLatestCheckpoint, verifyCheckpoint } from '../../runtime/run/checkpoint.js';
import { MetricsLog } from '../../runtime/run/folder.js';
import { BatchSampler } from '../../runtime/train/batches.js';
import { captureOptimizer, captureWeights } from '../../runtime/train/snapshot.js';
import { trainStep } from '../../runtime/train/step.js';
import { train, TrainingDivergedError } from '../../runtime/train/trainer.js';
import { compileTraining } from '../../compiler/training.js';
import { compileTiny, quiet, tempDir, testRegistry, tinyDataset, tinySpec, useCpu } from './helpers.js';

/** A metrics record without its wall-clock stamp (the one field two identical runs differ in). */
const withoutTime = ({ time: _time, ...rest }: Record<string, unknown>) => rest;

/** Adam's state: beta1^t, beta2^t and the flat first and second moments (plugins/builtin/flat-adam.ts). */
const ADAM_STATE_TENSORS = 4;

beforeAll(useCpu);

function bytesOf(arrays: Array<{ name: string; data: Float32Array | Int32Array }>): Map<string, Buffer> {
  return new Map(arrays.map((a) => [a.name, Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)]));
}

describe('train step', () => {
  it('combines the terms as the spec says: loss = rec + beta*KL + scale/2 * sum(w^2) over kernels', async () => {
    const spec = tinySpec();
    spec.loss.objective = { kind: 'weighted', beta: 0.5 };
    const registry = testRegistry();
    const { model, dispose } = compileTiny(spec, registry);
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    // regularisation computed on the host from the weights before the step
    let sumSquares = 0;
    let kernels = 0;
    for (const v of model.variables) {
      if (!v.regularize) continue;
      kernels++;
      for (const x of v.variable.dataSync()) sumSquares += x * x;
    }
    expect(kernels).toBeGreaterThan(0);
    const batch = new BatchSampler(tinyDataset(), [0, 1, 2, 3], 2, 1).batchAt(0);
    const values = await trainStep({ model, training, handle, batch, seed: 3, step: 0, state: training.initialObjectiveState() });
    expect(values.regularization).toBeCloseTo((1e-5 * sumSquares) / 2, 6);
    expect(values.loss).toBeCloseTo(values.reconstruction! + 0.5 * values.KL! + values.regularization!, 3);
    expect(values.reconstruction).toBeGreaterThan(0);
    expect(values.KL).toBeGreaterThanOrEqual(0);
    handle.optimizer.dispose();
    dispose();
  });

  it('leaks no tensors: the tensor count is the same after step 2 as after step 1', async () => {
    const spec = tinySpec();
    const registry = testRegistry();
    const { model, dispose } = compileTiny(spec, registry);
    const training = compileTraining(spec, registry);
    const handle = training.createOptimizer();
    const sampler = new BatchSampler(tinyDataset(), [0, 1, 2, 3, 4, 5, 6, 7], 3, 1);
    const step = (s: number) =>
      trainStep({ model, training, handle, batch: sampler.batchAt(s), seed: s, step: s, state: training.initialObjectiveState() });
    await step(0); // creates Adam's moment slots (permanent)
    const after1 = tf.memory().numTensors;
    await step(1);
    await step(2);
    expect(tf.memory().numTensors).toBe(after1);
    handle.optimizer.dispose();
    dispose();
  });
});

describe('train loop', () => {
  it('writes metrics.jsonl, checkpoints, and a best/ checkpoint from validation GED', async () => {
    const spec = tinySpec({ steps: 4, validate_every: 2, checkpoint_every: 2 });
    const registry = testRegistry();
    const runDir = tempDir();
    const { model, dispose } = compileTiny(spec, registry);
    const before = tf.memory().numTensors;
    const result = await train({ spec, registry, model, dataset: tinyDataset(), runDir, specHash: 'h', out: quiet });
    expect(result.status).toBe('completed');
    expect(result.step).toBe(4);
    const records = new MetricsLog(join(runDir, 'metrics.jsonl')).read();
    expect(records.filter((r) => r.loss !== undefined).map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const validations = records.filter((r) => r.event === 'validation');
    expect(validations.map((r) => r.step)).toEqual([2, 4]);
    for (const v of validations) {
      expect(v.ged).toBeGreaterThanOrEqual(0);
      expect(v.ged).toBeLessThanOrEqual(2);
    }
    const bestGed = Math.min(...validations.map((v) => v.ged as number));
    expect(result.best?.ged).toBe(bestGed);
    const best = readLatestCheckpoint(join(runDir, 'best'))!;
    expect(best.checkpoint.meta.step).toBe(result.best!.step);
    expect(listCheckpoints(join(runDir, 'checkpoints')).map((c) => c.step)).toEqual([4, 2]);
    const last = readLatestCheckpoint(join(runDir, 'checkpoints'))!.checkpoint;
    expect(last.meta.provenance.specHash).toBe('h');
    expect(last.meta.provenance.backend).toBe('cpu');
    expect(last.spec).toEqual(spec);
    // Adam's moments: the iteration count and one m and one v per variable
    expect(last.optimizer.filter((t) => t.name.startsWith('slot:'))).toHaveLength(1 + 2 * model.variables.length);
    // the optimizer's state stays alive with the model, nothing else does
    expect(tf.memory().numTensors - before).toBe(ADAM_STATE_TENSORS);
    dispose();
  });

  it('resumes bit-identically: stop after step 3, resume to 6 == 6 uninterrupted steps', async () => {
    const spec = tinySpec({ steps: 6, checkpoint_every: 2, validate_every: 2 });
    const registry = testRegistry();
    const dataset = tinyDataset();

    const straight = compileTiny(spec, registry);
    const dirA = tempDir();
    await train({ spec, registry, model: straight.model, dataset, runDir: dirA, specHash: 'h', out: quiet });
    const weightsA = bytesOf(await captureWeights(straight.model));
    straight.dispose();

    const dirB = tempDir();
    const first = compileTiny(spec, registry);
    const stopped = await train({ spec, registry, model: first.model, dataset, runDir: dirB, specHash: 'h', out: quiet, stopAfterStep: 3 });
    expect(stopped.status).toBe('interrupted');
    expect(stopped.step).toBe(3);
    first.dispose();

    // a fresh process-like start: new compiled model (different initial weights seed) restored from disk
    const second = compileTiny({ ...spec, train: { ...spec.train } }, registry);
    const resumed = await train({ spec, registry, model: second.model, dataset, runDir: dirB, specHash: 'h', out: quiet, resume: true });
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.step).toBe(6);
    const weightsB = bytesOf(await captureWeights(second.model));
    expect([...weightsB.keys()]).toEqual([...weightsA.keys()]);
    for (const [name, bytes] of weightsA) expect(weightsB.get(name)!.equals(bytes), name).toBe(true);

    // the logs agree step for step, and so do the final checkpoints' optimizer states
    const lossesA = new MetricsLog(join(dirA, 'metrics.jsonl')).read().filter((r) => r.loss !== undefined).map(withoutTime);
    const lossesB = new MetricsLog(join(dirB, 'metrics.jsonl')).read().filter((r) => r.loss !== undefined).map(withoutTime);
    expect(lossesB).toEqual(lossesA);
    // (slot names carry tfjs's per-process variable names; the order is what Adam keys on)
    const optA = readLatestCheckpoint(join(dirA, 'checkpoints'))!.checkpoint.optimizer;
    const optB = readLatestCheckpoint(join(dirB, 'checkpoints'))!.checkpoint.optimizer;
    expect(optB.length).toBe(optA.length);
    optA.forEach((a, i) => expect(Buffer.from(optB[i]!.data.buffer).equals(Buffer.from(a.data.buffer)), a.name).toBe(true));
    second.dispose();
  });

  it('refuses to resume with a different model spec, naming what differs', async () => {
    const spec = tinySpec({ steps: 2 });
    const registry = testRegistry();
    const runDir = tempDir();
    const a = compileTiny(spec, registry);
    await train({ spec, registry, model: a.model, dataset: tinyDataset(), runDir, specHash: 'h', out: quiet });
    a.dispose();
    const changed = tinySpec({ steps: 4 });
    changed.loss.objective = { kind: 'weighted', beta: 2 };
    const b = compileTiny(changed, registry);
    await expect(train({ spec: changed, registry, model: b.model, dataset: tinyDataset(), runDir, specHash: 'h2', out: quiet, resume: true })).rejects.toThrow(/differs .* \(in: loss\)/);
    b.dispose();
  });

  it('stops on a NaN term naming the step and the term, keeping the last good checkpoint', async () => {
    let calls = 0;
    const nanAtThirdStep: PunetPlugin = {
      name: 'nan-test',
      version: '0.0.0',
      punetApi: '^2.0.0',
      klEstimators: {
        'nan-at-3': {
          description: 'analytic-looking KL that turns NaN on its third call',
          options: { type: 'object' },
          compute: ({ tf: t, latents }) => {
            calls++;
            const mu = latents[0]!.posterior.params.mu!;
            const value = t.mean(t.sum(t.square(mu), -1));
            return (calls === 3 ? t.mul(value, NaN) : value) as tf.Scalar;
          },
        },
      },
    };
    const spec = tinySpec({ steps: 6, checkpoint_every: 2 });
    spec.loss.kl = { kind: 'nan-test/nan-at-3' };
    const registry = testRegistry([nanAtThirdStep]);
    const runDir = tempDir();
    const { model, dispose } = compileTiny(spec, registry);
    const before = tf.memory().numTensors;
    const error = await train({ spec, registry, model, dataset: tinyDataset(), runDir, specHash: 'h', out: quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toMatch(/^KL is NaN at step 3; training stopped\. The last good checkpoint is .*step-00000002/);
    const store = join(runDir, 'checkpoints');
    expect(listCheckpoints(store).map((c) => c.step)).toEqual([2]);
    expect(verifyCheckpoint(join(store, 'step-00000002'))).toBeUndefined();
    // the failed step applied nothing and left no tensors behind (beyond Adam's state from step 1)
    expect(tf.memory().numTensors - before).toBe(ADAM_STATE_TENSORS);
    const events = new MetricsLog(join(runDir, 'metrics.jsonl')).read().filter((r) => r.event === 'non-finite').map(withoutTime);
    expect(events).toEqual([{ event: 'non-finite', step: 3, term: 'KL', value: 'NaN' }]);
    dispose();
  });
});

describe('optimizer state', () => {
  it('captures Adam beta powers exactly (not recomputed by pow)', async () => {
    const opt = tf.train.adam(0.1, 0.9, 0.999);
    const v = tf.variable(tf.tensor1d([1, 2]), true, 'optstate-test-v');
    for (let i = 0; i < 3; i++) opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    const { tensors, extras } = await captureOptimizer(opt);
    expect(extras).toEqual(['accBeta1', 'accBeta2']);
    const beta1Power = tensors.find((t) => t.name === 'extra:accBeta1')!.data[0]!;
    // float32 product accumulated step by step: 0.9 * 0.9 * 0.9 * 0.9 (the next step's power)
    let expected = Math.fround(0.9);
    for (let i = 0; i < 3; i++) expected = Math.fround(expected * Math.fround(0.9));
    expect(beta1Power).toBe(expected);
    expect(tensors.find((t) => t.name === 'slot:0:iter')!.data[0]).toBe(3);
    opt.dispose();
    v.dispose();
  });
});

