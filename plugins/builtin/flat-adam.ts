/**
 * Adam over one flat vector of all parameters. tfjs's AdamOptimizer runs ~14 kernels per
 * variable; a small net has dozens of variables, so the update cost is kernel dispatch, not
 * arithmetic. Here the gradients are concatenated once, the same element-wise arithmetic (the same
 * ops in the same order as tfjs's Adam, so the numbers are bit-identical) runs once on the flat
 * vector, and the new values are split back into the variables. Where punet's native kernels run
 * (wasm backend), that arithmetic is one threaded kernel (ADAM_UPDATE, native/adam.cc), still bit
 * for bit the same.
 *
 * Checkpoints see exactly what tfjs's Adam shows: getWeights() gives the iteration count, then one
 * `${name}/m` and one `${name}/v` per variable, and the beta powers are the own scalar variables
 * `accBeta1` / `accBeta2`. The flat moments are kept in a plain object field so that code which
 * collects an optimizer's own tf.Variable fields finds only those two.
 */
import type * as tfNs from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import type { Tensor, Tf, Variable } from '../../compiler/api.js';
import { ADAM_UPDATE } from '../../runtime/backends/native-kernel-names.js';

/** Adam's hyperparameters: the `adam` optimizer's options (plugins/builtin/training.ts). */
export const AdamOptionsSchema = Type.Object(
  {
    lr: Type.Number({ exclusiveMinimum: 0, default: 1e-4, description: 'Base learning rate.' }),
    beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
    beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
    epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-8 }),
  },
  { additionalProperties: false },
);
export type FlatAdamOptions = Static<typeof AdamOptionsSchema>;

/** Layout of the flat moment vectors: one segment per variable, in applyGradients order. */
interface Slots {
  names: string[];
  shapes: number[][];
  sizes: number[];
  m: Variable;
  v: Variable;
}

type NamedTensor = { name: string; tensor: Tensor };

/** Backends that keep tensors in host memory, where a synchronous read is only a copy. */
const HOST_MEMORY_BACKENDS = new Set(['wasm', 'cpu', 'tensorflow']);

/** A tf.Optimizer whose `learningRate` may be changed between steps (schedules). */
export type FlatAdam = tfNs.Optimizer & { learningRate: number };

export function createFlatAdam(tf: Tf, o: FlatAdamOptions): FlatAdam {
  return new (flatAdamClass(tf))(o);
}

const classes = new WeakMap<Tf, ReturnType<typeof defineFlatAdam>>();

/** One class per tf namespace (the plugin receives tf at run time, it never imports it). */
function flatAdamClass(tf: Tf) {
  let cls = classes.get(tf);
  if (!cls) {
    cls = defineFlatAdam(tf);
    classes.set(tf, cls);
  }
  return cls;
}

function defineFlatAdam(tf: Tf) {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const flatten = (tensors: Tensor[]) => tf.concat(tensors.map((t) => tf.reshape(t, [-1])));

  /**
   * The flat vector cut into per-variable tensors: tf.split where it copies each piece once
   * (punet's native SplitV, present with ADAM_UPDATE; webgpu). On the other backends whose memory
   * is host memory, one read and one upload per piece: plain wasm's Slice/SplitV copy the whole
   * input for every piece (a split into k pieces costs k full copies, ruinous for millions of
   * parameters), and there a synchronous read is a plain copy, not a device round trip.
   */
  const splitInto = (flat: Tensor, s: Pick<Slots, 'sizes' | 'shapes'>): Tensor[] => {
    const backend = tf.getBackend();
    if (!HOST_MEMORY_BACKENDS.has(backend) || tf.getKernel(ADAM_UPDATE, backend) !== undefined) {
      return tf.split(flat, s.sizes).map((part, i) => tf.reshape(part, s.shapes[i]!));
    }
    const values = flat.dataSync() as Float32Array;
    let offset = 0;
    return s.sizes.map((n, i) => {
      const part = tf.tensor(values.subarray(offset, offset + n), s.shapes[i]!, 'float32');
      offset += n;
      return part;
    });
  };

  return class FlatAdamOptimizer extends tf.Optimizer {
    static get className(): string {
      return 'PunetFlatAdam';
    }

    learningRate: number;
    readonly beta1: number;
    readonly beta2: number;
    readonly epsilon: number;
    /** beta1^t and beta2^t, multiplied step by step as tfjs's Adam does (checkpoint extras). */
    accBeta1: Variable;
    accBeta2: Variable;
    private slots: { current?: Slots } = {};
    /** Tensors handed out by getWeights(): valid until the next update, getWeights or dispose. */
    private exported: Tensor[] = [];

    constructor(o: FlatAdamOptions) {
      super();
      this.learningRate = o.lr;
      this.beta1 = o.beta1;
      this.beta2 = o.beta2;
      this.epsilon = o.epsilon;
      this.accBeta1 = tf.tidy(() => tf.scalar(o.beta1).variable(false));
      this.accBeta2 = tf.tidy(() => tf.scalar(o.beta2).variable(false));
    }

    applyGradients(variableGradients: Record<string, Tensor> | NamedTensor[]): void {
      const list: Array<{ name: string; tensor: Tensor | null | undefined }> = Array.isArray(variableGradients)
        ? variableGradients
        : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
      const registered = tf.engine().registeredVariables;
      const variables = list.map(({ name }) => {
        const v = registered[name];
        if (!v) throw new Error(`adam: there is no variable named '${name}'`);
        return v;
      });
      const slots = this.slotsFor(list.map((g) => g.name), variables);
      this.releaseExported();
      tf.tidy(() => {
        const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
        const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
        // A variable without a gradient keeps its value and moments (as in tfjs's Adam).
        const missing = list.map((g) => g.tensor == null);
        const gradient = flatten(list.map((g, i) => g.tensor ?? tf.zeros(slots.shapes[i]!)));
        const value = flatten(variables);
        const step = { gradient, m: slots.m, v: slots.v, value, oneMinusAccBeta1, oneMinusAccBeta2 };
        // Where the native kernels run, the same arithmetic in one threaded pass (bit-identical).
        const oneKernel = tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined;
        const attrs = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate };
        let [m, v, next] = oneKernel ? (tf.engine().runKernel(ADAM_UPDATE, step, attrs) as unknown as Tensor[]) : this.composedUpdate(step);
        if (missing.some(Boolean)) {
          const keep = tf.concat(slots.sizes.map((n, i) => tf.fill([n], missing[i] ? 0 : 1, 'bool')));
          m = tf.where(keep, m, slots.m);
          v = tf.where(keep, v, slots.v);
          next = tf.where(keep, next, value);
        }
        slots.m.assign(m);
        slots.v.assign(v);
        splitInto(next, slots).forEach((part, i) => variables[i]!.assign(part));
        this.accBeta1.assign(tf.mul(this.accBeta1, this.beta1));
        this.accBeta2.assign(tf.mul(this.accBeta2, this.beta2));
      });
      this.incrementIterations();
    }

    /** One Adam step in tfjs's element-wise ops, in the order tfjs's AdamOptimizer runs them. */
    private composedUpdate(s: { gradient: Tensor; m: Tensor; v: Tensor; value: Tensor; oneMinusAccBeta1: Tensor; oneMinusAccBeta2: Tensor }): [Tensor, Tensor, Tensor] {
      const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(s.gradient, 1 - this.beta1));
      const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(s.gradient), 1 - this.beta2));
      const mHat = tf.div(m, s.oneMinusAccBeta1);
      const vHat = tf.div(v, s.oneMinusAccBeta2);
      return [m, v, tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate), s.value)];
    }

    /**
     * The moment slots, created (zeros) on the first update. Like tfjs's Adam, slots belong to
     * positions, not names (a restored state meets new variables): later updates must bring
     * variables of the same shapes in the same order.
     */
    private slotsFor(names: string[], variables: Variable[]): Slots {
      const current = this.slots.current;
      if (current) {
        const differs = current.shapes.length !== variables.length || current.shapes.some((s, i) => s.join('x') !== variables[i]!.shape.join('x'));
        if (differs) throw new Error('adam: applyGradients got variables of other shapes or in another order than its moments were made for');
        return current;
      }
      const shapes = variables.map((v) => [...v.shape]);
      const sizes = shapes.map(size);
      const total = sizes.reduce((a, b) => a + b, 0);
      const created: Slots = {
        names,
        shapes,
        sizes,
        m: tf.tidy(() => tf.zeros([total]).variable(false)),
        v: tf.tidy(() => tf.zeros([total]).variable(false)),
      };
      this.slots.current = created;
      return created;
    }

    override async getWeights(): Promise<NamedTensor[]> {
      this.releaseExported();
      const iterations = await this.saveIterations();
      const s = this.slots.current;
      if (!s) return [iterations];
      const perVariable = (flat: Tensor, suffix: string): NamedTensor[] =>
        tf.tidy(() => splitInto(flat, s)).map((tensor, i) => ({
          name: `${s.names[i]}/${suffix}`,
          tensor,
        }));
      const weights = [...perVariable(s.m, 'm'), ...perVariable(s.v, 'v')];
      this.exported = weights.map((w) => w.tensor);
      return [iterations, ...weights];
    }

    /** Takes tfjs Adam's layout: iteration count, then all `/m`, then all `/v`, per variable. */
    override async setWeights(weightValues: NamedTensor[]): Promise<void> {
      const values = await this.extractIterations(weightValues);
      tf.tidy(() => {
        this.accBeta1.assign(tf.pow(this.beta1, this.iterations_ + 1));
        this.accBeta2.assign(tf.pow(this.beta2, this.iterations_ + 1));
      });
      const count = values.length / 2;
      const first = values.slice(0, count);
      const second = values.slice(count);
      this.disposeSlots();
      if (count === 0) return;
      this.slots.current = {
        names: first.map((w) => w.name.replace(/\/m$/, '')),
        shapes: first.map((w) => [...w.tensor.shape]),
        sizes: first.map((w) => size([...w.tensor.shape])),
        m: tf.tidy(() => flatten(first.map((w) => w.tensor)).variable(false)),
        v: tf.tidy(() => flatten(second.map((w) => w.tensor)).variable(false)),
      };
    }

    override dispose(): void {
      this.releaseExported();
      this.disposeSlots();
      this.accBeta1.dispose();
      this.accBeta2.dispose();
    }

    getConfig() {
      return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
    }

    private releaseExported(): void {
      tf.dispose(this.exported);
      this.exported = [];
    }

    private disposeSlots(): void {
      const s = this.slots.current;
      if (s) tf.dispose([s.m, s.v]);
      this.slots.current = undefined;
    }
  };
}
