/**
 * The flat Adam (plugins/builtin/flat-adam.ts) against tfjs's AdamOptimizer: the same values after
 * every step (bit for bit: the same element-wise ops), the same getWeights() layout and numbers
 * (what checkpoints store), a state restored with setWeights() continuing identically, and a
 * variable without a gradient left alone.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createFlatAdam } from '../../plugins/builtin/flat-adam.js';

const shapes = [[3, 3, 2, 4], [4], [1, 1, 4, 5], [5]];
const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

function makeVariables(prefix: string): tf.Variable[] {
  return shapes.map((s, i) => {
    const init = tf.randomNormal(s, 0, 1, 'float32', 10 + i);
    const variable = tf.variable(init, true, `${prefix}/v${i}`);
    init.dispose(); // the variable keeps its own reference to the data
    return variable;
  });
}

/** Per step, per variable: a seeded gradient (null where `skip(step, i)`). */
function gradients(vars: tf.Variable[], step: number, skip: (step: number, i: number) => boolean) {
  return vars.map((v, i) => ({ name: v.name, tensor: skip(step, i) ? null : tf.randomNormal(v.shape, 0, 1, 'float32', 1000 + 100 * step + i) }));
}

async function values(vars: tf.Variable[]): Promise<number[][]> {
  return Promise.all(vars.map(async (v) => Array.from(await v.data())));
}

async function train(optimizer: tf.Optimizer, vars: tf.Variable[], steps: number[], skip = (_s: number, _i: number) => false) {
  for (const step of steps) {
    const grads = gradients(vars, step, skip);
    optimizer.applyGradients(grads as never);
    tf.dispose(grads.map((g) => g.tensor).filter((t): t is tf.Tensor => t !== null));
  }
}

describe('flat adam', () => {
  it("takes the same steps as tfjs's Adam, bit for bit, and shows the same weights", async () => {
    const start = tf.memory().numTensors;
    const a = makeVariables('a');
    const b = makeVariables('b');
    const reference = tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon);
    const flat = createFlatAdam(tf, o);
    await train(reference, a, [0, 1, 2, 3]);
    await train(flat, b, [0, 1, 2, 3]);
    expect(await values(b)).toEqual(await values(a));
    const wa = await reference.getWeights();
    const wb = await flat.getWeights();
    expect(wb.map((w) => w.name.replace(/^b\//, 'a/'))).toEqual(wa.map((w) => w.name));
    for (let i = 0; i < wa.length; i++) {
      expect(wb[i]!.tensor.shape).toEqual(wa[i]!.tensor.shape);
      expect(Array.from(await wb[i]!.tensor.data())).toEqual(Array.from(await wa[i]!.tensor.data()));
    }
    reference.dispose();
    flat.dispose();
    tf.dispose([...a, ...b, wa[0]!.tensor, wb[0]!.tensor]); // the iteration counts are the caller's
    expect(tf.memory().numTensors).toBe(start); // nothing either optimizer made outlives it
  });

  it('continues identically from a state restored with setWeights', async () => {
    const a = makeVariables('c');
    const reference = tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon);
    await train(reference, a, [0, 1, 2, 3, 4]);

    const b = makeVariables('d');
    const first = createFlatAdam(tf, o);
    await train(first, b, [0, 1]);
    const saved = await first.getWeights();
    const copies = saved.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
    const beta = [first as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable }].map((f) => [f.accBeta1.dataSync()[0]!, f.accBeta2.dataSync()[0]!])[0]!;
    first.dispose();
    const resumed = createFlatAdam(tf, o) as unknown as tf.Optimizer & { accBeta1: tf.Variable; accBeta2: tf.Variable };
    await resumed.setWeights(copies);
    // the beta powers are restored exactly, as runtime/train/snapshot.ts does
    resumed.accBeta1.assign(tf.scalar(beta[0]));
    resumed.accBeta2.assign(tf.scalar(beta[1]));
    tf.dispose(copies.map((c) => c.tensor));
    await train(resumed, b, [2, 3, 4]);
    expect(await values(b)).toEqual(await values(a));
    reference.dispose();
    resumed.dispose();
    tf.dispose([...a, ...b]);
  });

  it('leaves a variable without a gradient (and its moments) as they were', async () => {
    const skip = (step: number, i: number) => i === 1 && step === 1;
    const a = makeVariables('e');
    const b = makeVariables('f');
    const reference = tf.train.adam(o.lr, o.beta1, o.beta2, o.epsilon);
    const flat = createFlatAdam(tf, o);
    await train(reference, a, [0, 1, 2], skip);
    const mid = await values(b);
    await train(flat, b, [0], skip);
    const afterFirst = (await values(b))[1]!;
    await train(flat, b, [1], skip);
    expect((await values(b))[1]).toEqual(afterFirst);
    expect(afterFirst).not.toEqual(mid[1]);
    await train(flat, b, [2], skip);
    expect(await values(b)).toEqual(await values(a));
    reference.dispose();
    flat.dispose();
    tf.dispose([...a, ...b]);
  });
});
