/**
 * Objective `geco` (Rezende & Viola 2018, as used by Kohl et al. 2019): minimise KL subject to
 * reconstruction <= kappa * N, via the Lagrangian
 *     loss = lambda * (EMA(rec) - kappa * N) + KL,   lambda = softplus(v)^2.
 * The constraint uses the EMA of the reconstruction loss, but its gradient flows through the
 * current batch's value (straight-through). v is a Lagrange multiplier: it is updated by gradient
 * ASCENT on the loss after each step (`nextState`), so lambda rises while the constraint is
 * violated and falls once it holds. State {ema, v, steps, m, s} is saved in checkpoints.
 */
import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../../compiler/api.js';
import type { ObjectiveContribution, ObjectiveState, Scalar, Tensor } from '../../compiler/api.js';

const gecoSchema = Type.Object(
  {
    kappa: Type.Number({ exclusiveMinimum: 0, default: 0.05 }),
    ema_decay: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.99 }),
    lambda_lr: Type.Number({ exclusiveMinimum: 0, default: 1e-2, description: 'Step size of the ascent on v.' }),
    ascent: StringEnum(['adam', 'sgd'], {
      default: 'adam',
      description: 'adam: scale-free steps (the constraint is in summed-CE units); sgd: v += lr * dLoss/dv.',
    }),
    initial_lambda: Type.Number({ exclusiveMinimum: 0, default: 1 }),
    pixel_fraction: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 1,
      description: 'N = pixel_fraction x pixels per image (e.g. 0.02 with top-k CE at fraction 0.02, as the DM code counts).',
    }),
  },
  { additionalProperties: false },
);
export type GecoOptions = Static<typeof gecoSchema>;

const softplus = (v: number) => (v > 30 ? v : Math.log1p(Math.exp(v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** softplus^-1 of sqrt(lambda): the v that gives lambda. */
export const vForLambda = (lambda: number) => Math.log(Math.expm1(Math.sqrt(lambda)));
export const lambdaOf = (v: number) => softplus(v) ** 2;

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** The EMA after this step's value: the first step starts it at the value itself. */
function nextEma(state: ObjectiveState, value: number, decay: number): number {
  return state.steps === 0 ? value : decay * state.ema! + (1 - decay) * value;
}

export const geco: ObjectiveContribution<GecoOptions> = {
  description: 'GECO: lambda * (EMA(reconstruction) - kappa * N) + KL, lambda adapted by gradient ascent',
  options: gecoSchema,

  initialState(options) {
    return { ema: 0, v: vForLambda(options.initial_lambda), steps: 0, m: 0, s: 0 };
  },

  combine({ tf, options, reconstruction, kl, pixelsPerImage, state }) {
    const lambda = lambdaOf(state.v!);
    const first = state.steps === 0;
    const decay = options.ema_decay;
    const previous = state.ema!;
    // Value: the updated EMA; gradient: that of the current reconstruction (straight-through).
    const straightThrough = tf.customGrad(((rec: Tensor) => ({
      value: first ? tf.clone(rec) : tf.add(tf.mul(rec, 1 - decay), decay * previous),
      gradFunc: (dy: Tensor) => dy,
    })) as never);
    const ema = straightThrough(reconstruction) as Scalar;
    const constraint = tf.sub(ema, options.kappa * options.pixel_fraction * pixelsPerImage) as Scalar;
    const loss = tf.add(tf.mul(constraint, lambda), kl) as Scalar;
    return { loss, logs: { geco_lambda: tf.scalar(lambda), geco_constraint: constraint, geco_ema: ema } };
  },

  nextState({ options, state, reconstruction, pixelsPerImage }) {
    const ema = nextEma(state, reconstruction, options.ema_decay);
    const constraint = ema - options.kappa * options.pixel_fraction * pixelsPerImage;
    const v = state.v!;
    // d loss / d v = constraint * d lambda / d v; ascent moves v along it.
    const grad = constraint * 2 * softplus(v) * sigmoid(v);
    const steps = state.steps! + 1;
    if (options.ascent === 'sgd') return { ema, v: v + options.lambda_lr * grad, steps, m: 0, s: 0 };
    const m = ADAM.beta1 * state.m! + (1 - ADAM.beta1) * grad;
    const s = ADAM.beta2 * state.s! + (1 - ADAM.beta2) * grad * grad;
    const mHat = m / (1 - ADAM.beta1 ** steps);
    const sHat = s / (1 - ADAM.beta2 ** steps);
    return { ema, v: v + (options.lambda_lr * mHat) / (Math.sqrt(sHat) + ADAM.epsilon), steps, m, s };
  },
};
