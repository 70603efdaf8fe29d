/**
 * The training loss, composed from the registry's contributions as the spec names them:
 * objective(reconstruction, KL) + regularizer(regularised weights).
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, Scalar, Tensor } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { resolve } from './contributions.js';
import type { TrainableModel } from './model.js';

/** Scalars of one step, in the order a NaN is reported (causes before the total). */
export interface LossTerms {
  reconstruction: Scalar;
  KL: Scalar;
  regularization: Scalar;
  /** Extra scalars the objective reports (e.g. GECO's lambda). */
  logs: Record<string, Scalar>;
  loss: Scalar;
}

export interface ComposedLoss {
  /** Call inside a gradient scope. `seed` drives the posterior sample. */
  compute(model: TrainableModel, images: Tensor, masks: Tensor, seed: number, state: ObjectiveState): LossTerms;
  initialState(): ObjectiveState;
  nextState(state: ObjectiveState, measured: { reconstruction: number; KL: number }): ObjectiveState;
}

export function composeLoss(spec: ResolvedSpec, registry: Registry): ComposedLoss {
  const { contribution: rec, options: recOptions } = resolve(registry, 'losses', spec.loss.reconstruction, 'loss.reconstruction');
  const { contribution: kl, options: klOptions } = resolve(registry, 'klEstimators', spec.loss.kl, 'loss.kl');
  const { contribution: objective, options: objOptions } = resolve(registry, 'objectives', spec.loss.objective, 'loss.objective');
  const { contribution: reg, options: regOptions } = resolve(registry, 'regularizers', spec.loss.regularization, 'loss.regularization');
  const pixelsPerImage = spec.input.size[0] * spec.input.size[1];

  return {
    compute(model, images, masks, seed, state) {
      const forward = model.segmenter.trainForward(images, masks, seed);
      const reconstruction = rec.compute({ tf, options: recOptions, logits: forward.logits, labels: masks });
      const KL = kl.compute({ tf, options: klOptions, latents: forward.latents, seed });
      const combined = objective.combine({ tf, options: objOptions, reconstruction, kl: KL, pixelsPerImage, state });
      const regularized = model.variables.filter((v) => v.regularize).map((v) => v.variable);
      const regularization = reg.compute({ tf, options: regOptions, weights: regularized });
      return {
        reconstruction,
        KL,
        regularization,
        logs: combined.logs ?? {},
        loss: tf.add(combined.loss, regularization) as Scalar,
      };
    },
    initialState: () => objective.initialState(objOptions),
    nextState(state, measured) {
      if (!objective.nextState) return state;
      return objective.nextState({ options: objOptions, state, reconstruction: measured.reconstruction, kl: measured.KL, pixelsPerImage });
    },
  };
}
