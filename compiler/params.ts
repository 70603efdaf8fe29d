/**
 * Seeded variable creation. Each variable's initial value comes from a seed derived from the run
 * seed and the variable's full name, so weights do not depend on the order blocks are built in
 * and the same (seed, spec) always gives the same model.
 */
import { createHash } from 'node:crypto';
import type { Initializer, ParamFactory, Tensor, Tf, Variable } from './api.js';

export interface VariableRecord {
  name: string;
  variable: Variable;
  /** Marked for weight decay (conv kernels). */
  regularize: boolean;
}

/** A uint32 seed from (run seed, variable name). */
export function deriveSeed(runSeed: number, name: string): number {
  return createHash('sha256').update(`${runSeed}\u0000${name}`).digest().readUInt32LE(0);
}

/** (fan_in, fan_out) as TF/Keras define them: the receptive field times in/out channels. */
export function fans(shape: number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2]!, receptive * shape[shape.length - 1]!];
}

/** tf's truncated normal is cut at 2 std; this is the std of a unit normal cut there. */
const TRUNCATED_STD = 0.8796256610342398;

export function initialValue(tf: Tf, shape: number[], init: Initializer, seed: number): Tensor {
  switch (init.kind) {
    case 'zeros':
      return tf.zeros(shape);
    case 'constant':
      return tf.fill(shape, init.value);
    case 'truncated-normal':
      return tf.truncatedNormal(shape, 0, init.std, 'float32', seed);
    case 'he-normal-truncated': {
      // Variance scaling 2.0 / fan_in, truncated normal corrected so the variance is exact.
      const std = Math.sqrt(2 / fans(shape)[0]) / TRUNCATED_STD;
      return tf.truncatedNormal(shape, 0, std, 'float32', seed);
    }
    case 'glorot-uniform': {
      const [fanIn, fanOut] = fans(shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return tf.randomUniform(shape, -limit, limit, 'float32', seed);
    }
    case 'orthogonal':
      return tf.tensor(orthogonal(tf, shape, init.gain ?? 1, seed), shape);
  }
}

/**
 * An orthogonal matrix of shape [prod(shape[:-1]), shape[-1]] (rows or columns orthonormal,
 * whichever fits), by modified Gram-Schmidt on a seeded Gaussian matrix in float64. Plain JS:
 * tf.linalg.qr builds a full m x m Q, far too slow for conv kernels.
 */
function orthogonal(tf: Tf, shape: number[], gain: number, seed: number): Float32Array {
  if (shape.length < 2) throw new Error(`orthogonal init needs a shape of rank >= 2, got [${shape}]`);
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const cols = shape[shape.length - 1]!;
  // Orthonormalise the `short` vectors of length `long`, then lay them out as rows x cols.
  const long = Math.max(rows, cols);
  const short = Math.min(rows, cols);
  const gauss = tf.tidy(() => tf.randomNormal([short, long], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const v = Float64Array.from(gauss);
  for (let i = 0; i < short; i++) {
    const vi = v.subarray(i * long, (i + 1) * long);
    for (let j = 0; j < i; j++) {
      const vj = v.subarray(j * long, (j + 1) * long);
      let dot = 0;
      for (let k = 0; k < long; k++) dot += vi[k]! * vj[k]!;
      for (let k = 0; k < long; k++) vi[k]! -= dot * vj[k]!;
    }
    let norm = 0;
    for (let k = 0; k < long; k++) norm += vi[k]! * vi[k]!;
    norm = Math.sqrt(norm);
    for (let k = 0; k < long; k++) vi[k]! /= norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows >= cols: column c is vector c; otherwise row r is vector r.
      out[r * cols + c] = gain * (rows >= cols ? v[c * long + r]! : v[r * long + c]!);
    }
  }
  return out;
}

/** The ParamFactory the compiler hands to blocks; records every variable in `store`. */
export class SeededParamFactory implements ParamFactory {
  constructor(
    private readonly tf: Tf,
    private readonly runSeed: number,
    readonly store: Map<string, VariableRecord>,
    private readonly prefix = '',
    /** Zeros instead of seeded draws: for checking that a spec builds, not for training. */
    private readonly dry = false,
  ) {}

  variable(name: string, shape: number[], init: Initializer, opts: { regularize?: boolean } = {}): Variable {
    const full = this.prefix ? `${this.prefix}/${name}` : name;
    if (this.store.has(full)) throw new Error(`variable '${full}' is created twice`);
    if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`variable '${full}' has an invalid shape [${shape}]`);
    const value = this.dry ? this.tf.zeros(shape) : initialValue(this.tf, shape, init, deriveSeed(this.runSeed, full));
    // No engine name: tfjs names are global, and several models may live in one process.
    const variable = this.tf.variable(value, true);
    value.dispose();
    this.store.set(full, { name: full, variable, regularize: opts.regularize ?? false });
    return variable;
  }

  scope(name: string): ParamFactory {
    return new SeededParamFactory(this.tf, this.runSeed, this.store, this.prefix ? `${this.prefix}/${name}` : name, this.dry);
  }
}
