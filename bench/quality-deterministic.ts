/**
 * The deterministic baseline of the quality benchmark: "the same spec with the latent removed".
 * The spec is compiled as usual, but only its U-Net and combiner are trained, with z fixed at 0
 * (a zero latent contributes nothing to the combiner's first 1x1 conv, so this IS the U-Net +
 * fcomb head without z). Same loss (the spec's reconstruction term + regularizer), optimizer,
 * schedule, batches and annotation draws as the probabilistic run; no prior, posterior or KL.
 */
import * as tf from '@tensorflow/tfjs';
import type { Prepared, ProbabilisticSegmenter, Scalar, Tensor } from '../compiler/api.js';
import type { Registry } from '../compiler/registry.js';
import type { Dataset } from '../runtime/data/types.js';
import { compileOrFail } from '../runtime/run/session.js';
import { BatchSampler } from '../runtime/train/batches.js';
import { resolve } from '../runtime/train/contributions.js';
import type { ResolvedSpec } from '../spec/types.js';

/** Parameter-path prefixes of the blocks a plain U-Net keeps. */
const KEPT_BLOCKS = ['unet/', 'combiner/'];

export interface DeterministicModel {
  /** Samples are all the z = 0 prediction (n identical masks per image). */
  segmenter: ProbabilisticSegmenter;
  parameters: number;
  lastLoss: number;
  dispose(): void;
}

/** Zero latents shaped like the prior's samples: [B, n, ...eventShape]. */
function zeroLatents(prepared: Prepared, n: number): Tensor {
  const mu = prepared.prior.params.mu!;
  return tf.zeros([mu.shape[0]!, n, ...prepared.prior.eventShape]);
}

export function trainDeterministic(
  spec: ResolvedSpec,
  registry: Registry,
  dataset: Dataset,
  log: (line: string) => void,
): DeterministicModel {
  const compiled = compileOrFail(spec, registry);
  const seg = compiled.segmenter;
  // The model's variables are in canonical (name) order already.
  const kept = compiled.variables.filter((v) => KEPT_BLOCKS.some((p) => v.name.startsWith(p)));
  if (!kept.length) throw new Error(`the spec's model has no ${KEPT_BLOCKS.join(' / ')} parameters to train a deterministic U-Net from`);
  const variables = kept.map((v) => v.variable);
  const regularized = kept.filter((v) => v.regularize).map((v) => v.variable);

  const t = spec.train;
  const rec = resolve(registry, 'losses', spec.loss.reconstruction, 'loss.reconstruction', spec);
  const reg = resolve(registry, 'regularizers', spec.loss.regularization, 'loss.regularization', spec);
  const opt = resolve(registry, 'optimizers', t.optimizer, 'train.optimizer', spec);
  const schedule = resolve(registry, 'schedules', t.schedule, 'train.schedule', spec);
  const handle = opt.contribution.create({ tf, options: opt.options });
  const baseLearningRate = opt.contribution.baseLearningRate(opt.options);
  const sampler = new BatchSampler(dataset, dataset.splits.train, t.batch_size, t.seed);

  let lastLoss = NaN;
  const every = Math.max(1, Math.round(t.steps / 10));
  for (let step = 0; step < t.steps; step++) {
    handle.setLearningRate(schedule.contribution.learningRate({ options: schedule.options, step, baseLearningRate, totalSteps: t.steps }));
    const batch = sampler.batchAt(step);
    const { batch: B, height: H, width: W, channels: C } = batch.shape;
    lastLoss = tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [B, H, W, C]);
      const masks = tf.tensor3d(batch.masks, [B, H, W], 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const prepared = seg.prepare(images);
        const logits = seg.decode(prepared, zeroLatents(prepared, 1));
        const flat = tf.reshape(logits, [B, H, W, logits.shape[logits.shape.length - 1]!]);
        const ce = rec.contribution.compute({ tf, options: rec.options, logits: flat, labels: masks });
        const l2 = reg.contribution.compute({ tf, options: reg.options, weights: regularized });
        return tf.add(ce, l2) as Scalar;
      }, variables);
      // Keyed by the tf.Variable's own name (what variableGrads reports).
      handle.optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] as Tensor })));
      return value.dataSync()[0]!;
    });
    if (!Number.isFinite(lastLoss)) throw new Error(`deterministic baseline: loss is ${lastLoss} at step ${step + 1}`);
    if ((step + 1) % every === 0) log(`  deterministic U-Net step ${step + 1}/${t.steps}  loss ${lastLoss.toFixed(1)}`);
  }
  handle.optimizer.dispose();

  const segmenter: ProbabilisticSegmenter = {
    ...seg,
    sample: (prepared, n) => tf.tidy(() => seg.decode(prepared, zeroLatents(prepared, n))),
  };
  const parameters = kept.reduce((sum, v) => sum + v.variable.size, 0);
  return { segmenter, parameters, lastLoss, dispose: () => compiled.dispose() };
}
