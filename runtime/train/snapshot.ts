/**
 * Moves training state between tensors and host arrays for checkpoints: the model's variables
 * by name, the optimizer's slot variables in its own order, and the optimizer's scalar
 * accumulators (Adam's beta1^t, beta2^t). tfjs's Adam.setWeights recomputes those powers with
 * pow(), which is not bit-identical to the product accumulated step by step, so they are saved
 * and restored exactly: that is what makes a resumed run bit-identical.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedArray, StoredDtype } from '../run/checkpoint.js';
import type { CompiledModel } from '../../compiler/compile.js';

/** The part of a compiled model a snapshot reads and writes: its variables in canonical order. */
type WithVariables = Pick<CompiledModel, 'variables'>;

export async function captureWeights(model: WithVariables): Promise<NamedArray[]> {
  const out: NamedArray[] = [];
  for (const v of model.variables) out.push(await toHost(v.name, v.variable));
  return out;
}

/** Restores weights by name; names and shapes must match the compiled model exactly. */
export function restoreWeights(model: WithVariables, weights: NamedArray[]): void {
  const saved = new Map(weights.map((w) => [w.name, w]));
  const problems: string[] = [];
  for (const v of model.variables) {
    const w = saved.get(v.name);
    if (!w) problems.push(`'${v.name}' is missing from the checkpoint`);
    else if (w.shape.join('x') !== v.variable.shape.join('x')) {
      problems.push(`'${v.name}' has shape [${w.shape}] in the checkpoint but [${v.variable.shape}] in the model`);
    }
    saved.delete(v.name);
  }
  for (const name of saved.keys()) problems.push(`the checkpoint has '${name}', which the model does not`);
  if (problems.length) {
    throw new Error(`the checkpoint does not fit this model (was the spec changed?): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  }
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const v of model.variables) {
    const w = byName.get(v.name)!;
    tf.tidy(() => v.variable.assign(tf.tensor(w.data, w.shape, v.variable.dtype)));
  }
}

/** Scalar tf.Variables the optimizer keeps as own fields (accumulators not in getWeights()). */
function optimizerExtras(optimizer: tf.Optimizer): Array<[string, tf.Variable]> {
  return Object.entries(optimizer as unknown as Record<string, unknown>)
    .filter((e): e is [string, tf.Variable] => e[1] instanceof tf.Variable)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

export async function captureOptimizer(optimizer: tf.Optimizer): Promise<{ tensors: NamedArray[]; extras: string[] }> {
  const tensors: NamedArray[] = [];
  const weights = await optimizer.getWeights();
  for (const [i, w] of weights.entries()) {
    tensors.push(await toHost(`slot:${i}:${w.name}`, w.tensor));
    // Slot variables are the optimizer's own; anything else getWeights() returns (the iteration
    // count, per-variable views of a flat state) is a fresh tensor made for us.
    if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  }
  const extras = optimizerExtras(optimizer);
  for (const [field, variable] of extras) tensors.push(await toHost(`extra:${field}`, variable));
  return { tensors, extras: extras.map(([f]) => f) };
}

export async function restoreOptimizer(optimizer: tf.Optimizer, saved: NamedArray[]): Promise<void> {
  const slots = saved.filter((s) => s.name.startsWith('slot:'));
  const extras = saved.filter((s) => s.name.startsWith('extra:'));
  const tensors = slots.map((s) => ({ name: s.name.replace(/^slot:\d+:/, ''), tensor: tf.tensor(s.data, s.shape, s.dtype) }));
  await optimizer.setWeights(tensors);
  // setWeights made its own variables from these; ours can go.
  for (const t of tensors) t.tensor.dispose();
  const fields = new Map(optimizerExtras(optimizer));
  for (const e of extras) {
    const field = e.name.slice('extra:'.length);
    const variable = fields.get(field);
    if (!variable) throw new Error(`the checkpoint's optimizer state has '${field}', which this optimizer does not keep`);
    tf.tidy(() => variable.assign(tf.tensor(e.data, e.shape, e.dtype)));
  }
}

async function toHost(name: string, tensor: tf.Tensor): Promise<NamedArray> {
  const dtype: StoredDtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
  const values = await tensor.data();
  const data = dtype === 'int32' ? Int32Array.from(values as Int32Array) : Float32Array.from(values as Float32Array);
  return { name, dtype, shape: [...tensor.shape], data };
}
