/**
 * The training side of a spec, resolved against the registry: reconstruction loss, KL estimator,
 * objective, regulariser, optimiser and schedule, each validated like a block. `lossTerms` is the
 * differentiable loss of one batch; `trainStep` one leak-free optimisation step.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, OptimizerHandle, ResolvedSpec, Scalar, Tensor, Tf } from './api.js';
import type { Registry } from './registry.js';
import type { CompiledModel } from './compile.js';
import { resolveEntry, type ResolvedEntry } from './options.js';

export interface LossTerms {
  loss: Scalar;
  reconstruction: Scalar;
  kl: Scalar;
  regularization: Scalar;
  logs: Record<string, Scalar>;
}

export interface CompiledTraining {
  reconstruction: ResolvedEntry<'losses'>;
  kl: ResolvedEntry<'klEstimators'>;
  objective: ResolvedEntry<'objectives'>;
  regularizer: ResolvedEntry<'regularizers'>;
  optimizer: ResolvedEntry<'optimizers'>;
  schedule: ResolvedEntry<'schedules'>;
  initialObjectiveState(): ObjectiveState;
  /** The loss of one batch; call inside tf.tidy / a gradient. masks: int32 [B, H, W]. */
  lossTerms(model: CompiledModel, images: Tensor, masks: Tensor, seed: number, state: ObjectiveState): LossTerms;
  createOptimizer(): OptimizerHandle;
  /** The scheduled learning rate at `step` (0-based). */
  learningRate(step: number): number;
  /** The objective's state after a step (GECO); unchanged for stateless objectives. */
  nextObjectiveState(state: ObjectiveState, measured: { reconstruction: number; kl: number; pixelsPerImage: number }): ObjectiveState;
}

export function compileTraining(spec: ResolvedSpec, registry: Registry, tfns: Tf = tf): CompiledTraining {
  const reconstruction = resolveEntry(registry, 'losses', spec.loss?.reconstruction, 'loss.reconstruction');
  const kl = resolveEntry(registry, 'klEstimators', spec.loss?.kl, 'loss.kl');
  const objective = resolveEntry(registry, 'objectives', spec.loss?.objective, 'loss.objective');
  const regularizer = resolveEntry(registry, 'regularizers', spec.loss?.regularization, 'loss.regularization');
  const optimizer = resolveEntry(registry, 'optimizers', spec.train?.optimizer, 'train.optimizer');
  const schedule = resolveEntry(registry, 'schedules', spec.train?.schedule, 'train.schedule');
  const pixelsPerImage = spec.input.size[0] * spec.input.size[1];
  const totalSteps = spec.train?.steps ?? 0;
  return {
    reconstruction,
    kl,
    objective,
    regularizer,
    optimizer,
    schedule,
    initialObjectiveState: () => objective.contribution.initialState(objective.options),
    lossTerms(model, images, masks, seed, state) {
      const forward = model.segmenter.trainForward(images, masks, seed);
      const rec = reconstruction.contribution.compute({ tf: tfns, options: reconstruction.options, logits: forward.logits, labels: masks });
      // A different seed than the posterior sample's, for estimators that sample.
      const klValue = kl.contribution.compute({ tf: tfns, options: kl.options, latents: forward.latents, seed: seed + 1 });
      const combined = objective.contribution.combine({
        tf: tfns,
        options: objective.options,
        reconstruction: rec,
        kl: klValue,
        pixelsPerImage,
        state,
      });
      const reg = regularizer.contribution.compute({ tf: tfns, options: regularizer.options, weights: model.regularizedWeights() });
      return {
        loss: tfns.add(combined.loss, reg) as Scalar,
        reconstruction: rec,
        kl: klValue,
        regularization: reg,
        logs: combined.logs ?? {},
      };
    },
    createOptimizer: () => optimizer.contribution.create({ tf: tfns, options: optimizer.options }),
    learningRate: (step) =>
      schedule.contribution.learningRate({
        options: schedule.options,
        step,
        baseLearningRate: optimizer.contribution.baseLearningRate(optimizer.options),
        totalSteps,
      }),
    nextObjectiveState: (state, measured) =>
      objective.contribution.nextState?.({ options: objective.options, state, ...measured }) ?? state,
  };
}

export interface StepResult {
  loss: number;
  reconstruction: number;
  kl: number;
  regularization: number;
  logs: Record<string, number>;
  learningRate: number;
}

/**
 * One optimisation step: sets the scheduled learning rate, computes gradients of the loss for
 * every variable, applies them, and returns the measured terms. Leaves no tensors behind.
 */
export function trainStep(
  model: CompiledModel,
  training: CompiledTraining,
  handle: OptimizerHandle,
  batch: { images: Tensor; masks: Tensor; seed: number; step: number; state: ObjectiveState },
  tfns: Tf = tf,
): StepResult {
  const learningRate = training.learningRate(batch.step);
  handle.setLearningRate(learningRate);
  let kept: Scalar[] = [];
  let logNames: string[] = [];
  const { value, grads } = tfns.variableGrads(() => {
    const terms = training.lossTerms(model, batch.images, batch.masks, batch.seed, batch.state);
    logNames = Object.keys(terms.logs);
    // Keep the measured terms past the gradient's tidy; disposed below.
    kept = [terms.reconstruction, terms.kl, terms.regularization, ...logNames.map((n) => terms.logs[n]!)].map((t) => tfns.keep(t));
    return terms.loss;
  }, model.trainableVariables());
  handle.optimizer.applyGradients(grads);
  const numbers = tfns.tidy(() => tfns.stack([value, ...kept]).dataSync() as Float32Array);
  tfns.dispose([value, ...kept, ...Object.values(grads)]);
  return {
    loss: numbers[0]!,
    reconstruction: numbers[1]!,
    kl: numbers[2]!,
    regularization: numbers[3]!,
    logs: Object.fromEntries(logNames.map((n, i) => [n, numbers[4 + i]!])),
    learningRate,
  };
}
