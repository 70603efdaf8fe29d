/**
 * The training side of a spec, resolved against the registry: reconstruction loss, KL estimator,
 * objective, regulariser, optimiser and schedule, each validated like a block. `lossTerms` is the
 * differentiable loss of one batch; `trainStep` one leak-free optimisation step.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, OptimizerHandle, ResolvedSpec, Scalar, Tensor, Tf } from './api.js';
import type { Registry } from './registry.js';
import type { CompiledModel } from './compile.js';
import { CompileError } from './errors.js';
import { resolveEntry, type ResolvedEntry } from './options.js';

/**
 * The KL estimator must handle the distributions the latent block produces: an estimator that
 * declares `families` and a latent block that declares its `family` must agree (either left
 * undeclared: nothing to check). Found here, `punet check` reports it too, not step 1.
 */
export function checkKLFamily(spec: ResolvedSpec, registry: Registry, kl: ResolvedEntry<'klEstimators'>): void {
  const families = kl.contribution.families;
  const latentKind = spec.latent?.kind;
  const family = latentKind === undefined ? undefined : registry.get('blocks', latentKind)?.contribution.family;
  if (!families || family === undefined || families.includes(family)) return;
  const fitting = registry
    .list('klEstimators')
    .filter((r) => !r.contribution.families || r.contribution.families.includes(family))
    .map((r) => r.id);
  throw new CompileError(
    'loss.kl',
    `KL estimator '${kl.registered.id}' handles ${families.join(', ')} latents, but latent block '${latentKind}' produces '${family}': ` +
      (fitting.length ? `use a KL estimator that handles it (${fitting.join(', ')})` : `no registered KL estimator handles '${family}'`),
    kl.registered.plugin.name,
  );
}

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
  /** `step`: the 0-based training step, for losses with a schedule (top-k warm-up). */
  lossTerms(model: TrainedModel, images: Tensor, masks: Tensor, seed: number, state: ObjectiveState, step?: number): LossTerms;
  createOptimizer(): OptimizerHandle;
  /** The scheduled learning rate at `step` (0-based). */
  learningRate(step: number): number;
  /** The objective's state after a step (GECO); unchanged for stateless objectives. */
  nextObjectiveState(state: ObjectiveState, measured: { reconstruction: number; kl: number; pixelsPerImage: number }): ObjectiveState;
}

/** What a step reads of a compiled model: the segmenter and its variables in canonical order. */
export type TrainedModel = Pick<CompiledModel, 'segmenter' | 'variables'>;

export function compileTraining(spec: ResolvedSpec, registry: Registry, tfns: Tf = tf): CompiledTraining {
  const reconstruction = resolveEntry(registry, 'losses', spec.loss?.reconstruction, 'loss.reconstruction', spec);
  const kl = resolveEntry(registry, 'klEstimators', spec.loss?.kl, 'loss.kl', spec);
  checkKLFamily(spec, registry, kl);
  const objective = resolveEntry(registry, 'objectives', spec.loss?.objective, 'loss.objective', spec);
  const regularizer = resolveEntry(registry, 'regularizers', spec.loss?.regularization, 'loss.regularization', spec);
  const optimizer = resolveEntry(registry, 'optimizers', spec.train?.optimizer, 'train.optimizer', spec);
  const schedule = resolveEntry(registry, 'schedules', spec.train?.schedule, 'train.schedule', spec);
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
    lossTerms(model, images, masks, seed, state, step) {
      const forward = model.segmenter.trainForward(images, masks, seed);
      const rec = reconstruction.contribution.compute({ tf: tfns, options: reconstruction.options, logits: forward.logits, labels: masks, step });
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
      const reg = regularizer.contribution.compute({ tf: tfns, options: regularizer.options, weights: model.variables.filter((v) => v.regularize).map((v) => v.variable) });
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

/** A loss term went NaN/Inf: the step is not applied, the weights stay as they were. */
export class NonFiniteLossError extends Error {
  constructor(
    /** The step's number as the caller counts it (for messages). */
    readonly step: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`${term} is ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity'} at step ${step}`);
    this.name = 'NonFiniteLossError';
  }
}

/**
 * One optimisation step: sets the scheduled learning rate, computes the loss terms and the
 * gradients of every variable, checks every term is finite BEFORE the update (so a NaN never
 * reaches the weights), then applies the gradients. Reads the terms with an async read, the only
 * kind the webgpu backend supports in Node. Leaves no tensors behind, also when it throws.
 * `batch.step` is 0-based for the schedule; errors name step + 1.
 */
export async function trainStep(
  model: TrainedModel,
  training: CompiledTraining,
  handle: OptimizerHandle,
  batch: { images: Tensor; masks: Tensor; seed: number; step: number; state: ObjectiveState },
  tfns: Tf = tf,
): Promise<StepResult> {
  const learningRate = training.learningRate(batch.step);
  handle.setLearningRate(learningRate);
  const variables = model.variables.map((v) => v.variable);
  let logNames: string[] = [];
  const { terms, grads } = tfns.tidy(() => {
    let stacked: Tensor | undefined;
    const { value, grads } = tfns.variableGrads(() => {
      const t = training.lossTerms(model, batch.images, batch.masks, batch.seed, batch.state, batch.step);
      logNames = Object.keys(t.logs);
      const scalars = [t.loss, t.reconstruction, t.kl, t.regularization, ...logNames.map((n) => t.logs[n]!)];
      // All terms leave the gradient scope as one tensor, read back in one transfer.
      stacked = tfns.keep(tfns.stack(scalars.map((x) => tfns.reshape(tfns.cast(x, 'float32'), []))));
      return t.loss;
    }, variables);
    value.dispose();
    return { terms: stacked!, grads };
  });
  try {
    const numbers = (await terms.data()) as Float32Array;
    const names = ['loss', 'reconstruction', 'KL', 'regularization', ...logNames];
    // Causes before the total: report the first non-finite term in cause order.
    for (const i of [1, 2, 3, ...logNames.map((_, k) => 4 + k), 0]) {
      if (!Number.isFinite(numbers[i]!)) throw new NonFiniteLossError(batch.step + 1, names[i]!, numbers[i]!);
    }
    // One slot per variable in the model's canonical (name) order: Adam keys its moments by position.
    handle.optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] as Tensor })));
    return {
      loss: numbers[0]!,
      reconstruction: numbers[1]!,
      kl: numbers[2]!,
      regularization: numbers[3]!,
      logs: Object.fromEntries(logNames.map((n, i) => [n, numbers[4 + i]!])),
      learningRate,
    };
  } finally {
    tfns.dispose([terms, ...Object.values(grads)]);
  }
}
