/**
 * A training step on a host batch: uploads the batch's typed arrays and runs the one training
 * step (compiler/training.ts trainStep: loss, gradients, finiteness check before the update,
 * optimizer update). Returns the measured terms under the names the metrics log and progress
 * line use.
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, OptimizerHandle } from '../../compiler/api.js';
import { trainStep, type CompiledTraining, type TrainedModel } from '../../compiler/training.js';
import type { HostBatch } from './batches.js';

export { NonFiniteLossError } from '../../compiler/training.js';

export interface HostBatchStep {
  model: TrainedModel;
  training: CompiledTraining;
  handle: OptimizerHandle;
  batch: HostBatch;
  /** Seed of the posterior sample for this step. */
  seed: number;
  /** 0-based index of this step (the schedule's step; messages say step + 1). */
  step: number;
  state: ObjectiveState;
}

/** Runs the step: `{ lr, reconstruction, KL, regularization, ...objective logs, loss }`. */
export async function trainHostBatch(input: HostBatchStep): Promise<Record<string, number>> {
  const { model, training, handle, batch, seed, step, state } = input;
  const { batch: B, height: H, width: W, channels: C } = batch.shape;
  const images = tf.tensor4d(batch.images, [B, H, W, C]);
  const masks = tf.tensor3d(batch.masks, [B, H, W], 'int32');
  try {
    const r = await trainStep(model, training, handle, { images, masks, seed, step, state });
    return { lr: r.learningRate, reconstruction: r.reconstruction, KL: r.kl, regularization: r.regularization, ...r.logs, loss: r.loss };
  } finally {
    tf.dispose([images, masks]);
  }
}
