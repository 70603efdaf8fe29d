/**
 * One optimisation step: loss and gradients in one tidy scope, a finiteness check on every term
 * BEFORE the update (so a NaN never reaches the weights), then the optimizer's update.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, Tensor } from '../../compiler/api.js';
import type { HostBatch } from './batches.js';
import type { ComposedLoss } from './loss.js';
import type { TrainableModel } from './model.js';

/** A loss term went NaN/Inf: the run stops, the weights are left as they were before the step. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`${term} is ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity'} at step ${step}`);
    this.name = 'NonFiniteLossError';
  }
}

export interface StepInput {
  model: TrainableModel;
  loss: ComposedLoss;
  optimizer: tf.Optimizer;
  batch: HostBatch;
  /** Seed of the posterior sample for this step. */
  seed: number;
  /** 1-based number of this step, for messages. */
  step: number;
  state: ObjectiveState;
}

/** Runs the step and returns its measured terms (`loss`, `reconstruction`, `KL`, ...). */
export function trainStep(input: StepInput): Record<string, number> {
  const { model, loss, optimizer, batch, seed, step, state } = input;
  const { batch: B, height: H, width: W, channels: C } = batch.shape;
  const variables = model.variables.map((v) => v.variable);
  let termsTensor: Tensor | undefined;
  let names: string[] = [];
  try {
    return tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [B, H, W, C]);
      const masks = tf.tensor3d(batch.masks, [B, H, W], 'int32');
      const { grads } = tf.variableGrads(() => {
        const t = loss.compute(model, images, masks, seed, state);
        const logs = Object.entries(t.logs);
        names = ['reconstruction', 'KL', 'regularization', ...logs.map(([k]) => k), 'loss'];
        const scalars = [t.reconstruction, t.KL, t.regularization, ...logs.map(([, v]) => v), t.loss];
        // Kept past the gradient scope so all terms come back in one read.
        termsTensor = tf.keep(tf.stack(scalars.map((s) => tf.reshape(tf.cast(s, 'float32'), []))));
        return t.loss;
      }, variables);
      const values = termsTensor!.dataSync();
      const measured: Record<string, number> = {};
      names.forEach((name, i) => {
        const value = values[i]!;
        if (!Number.isFinite(value)) throw new NonFiniteLossError(step, name, value);
        measured[name] = value;
      });
      // Fixed order, one slot per variable even without a gradient: Adam keys its moments by index.
      optimizer.applyGradients(
        model.variables.map((v) => ({ name: v.variable.name, tensor: grads[v.variable.name] as Tensor })),
      );
      return measured;
    });
  } finally {
    termsTensor?.dispose();
  }
}
