/**
 * Built-in optimisers (`adam`, `sgd`) and learning-rate schedules (`constant`, `piecewise`, both
 * with an optional linear warm-up). Each option schema is written once (TypeBox): it is the JSON
 * Schema the spec is validated against and the static type of `ctx.options`.
 * No TensorFlow.js import: `tf` arrives in ctx.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineContribution, definePlugin } from '../../compiler/api.js';
import type { OptimizerContribution, OptionProblem, ScheduleContribution } from '../../compiler/api.js';
import { AdamOptionsSchema, createFlatAdam, type FlatAdamOptions } from './flat-adam.js';

const WarmupSteps = Type.Integer({
  minimum: 0,
  default: 0,
  description:
    'Learning-rate warm-up: the rate rises linearly over this many steps (step s: rate * (s + 1) / N). Large first Adam steps can kill ReLUs for good. 0 = off.',
});

const SgdSchema = Type.Object(
  {
    lr: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Base learning rate.' }),
    momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0 }),
  },
  { additionalProperties: false },
);
const ConstantSchema = Type.Object({ warmup_steps: WarmupSteps }, { additionalProperties: false });
const PiecewiseSchema = Type.Object(
  {
    boundaries: Type.Array(Type.Integer({ minimum: 1 }), { description: 'Steps at which the rate changes, increasing.' }),
    values: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, description: 'Learning rates, one more than boundaries.' }),
    warmup_steps: WarmupSteps,
  },
  { additionalProperties: false },
);
type PiecewiseOptions = Static<typeof PiecewiseSchema>;

/** `rate` scaled by the linear warm-up at 0-based `step`: rate * min(1, (step + 1) / warmup_steps). */
export function warmedUp(rate: number, o: { warmup_steps: number }, step: number): number {
  return o.warmup_steps > 0 ? rate * Math.min(1, (step + 1) / o.warmup_steps) : rate;
}

/** The value for `step`: values[i] where boundaries[i-1] <= step < boundaries[i]. */
export function piecewiseRate(o: PiecewiseOptions, step: number): number {
  let i = 0;
  while (i < o.boundaries.length && step >= o.boundaries[i]!) i++;
  return o.values[i]!;
}

/** Kohl et al. report NaNs with Adam above 1e-3 (SGD rates are on another scale, so only Adam warns). */
function checkAdamRate(o: FlatAdamOptions): OptionProblem[] {
  if (!(o.lr > 1e-3)) return [];
  const message = `learning rate ${o.lr} is above 1e-3, which is reported to make the Probabilistic U-Net diverge (NaN); the paper uses 1e-4`;
  return [{ option: 'lr', severity: 'warning', code: 'W402', message }];
}

function checkPiecewise(o: PiecewiseOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (o.values.length !== o.boundaries.length + 1) {
    problems.push({
      option: 'values',
      message: `needs one more value than boundaries: ${o.boundaries.length} boundaries, so ${o.boundaries.length + 1} values (got ${o.values.length})`,
    });
  }
  o.boundaries.forEach((b, i) => {
    if (i > 0 && b <= o.boundaries[i - 1]!) {
      problems.push({ option: `boundaries.${i}`, message: `boundaries must increase: ${b} follows ${o.boundaries[i - 1]}` });
    }
  });
  return problems;
}

const adam = defineContribution<OptimizerContribution<FlatAdamOptions>>()({
  description: 'Adam (Kingma & Ba); the reference uses lr 1e-4 (1e-3 is reported to produce NaNs).',
  options: AdamOptionsSchema,
  check: checkAdamRate,
  create: ({ tf, options }) => {
    // tfjs's Adam arithmetic on one flat vector: a few kernels per step instead of ~14 per variable.
    const optimizer = createFlatAdam(tf, options);
    return {
      optimizer,
      setLearningRate: (lr: number) => {
        optimizer.learningRate = lr;
      },
    };
  },
  baseLearningRate: (o) => o.lr,
});

const sgd = defineContribution<OptimizerContribution<Static<typeof SgdSchema>>>()({
  description: 'Stochastic gradient descent, with optional (heavy-ball) momentum.',
  options: SgdSchema,
  create: ({ tf, options: o }) => {
    if (o.momentum > 0) {
      const optimizer = tf.train.momentum(o.lr, o.momentum);
      return {
        optimizer,
        setLearningRate: (lr: number) => {
          (optimizer as unknown as { learningRate: number }).learningRate = lr;
        },
      };
    }
    const optimizer = tf.train.sgd(o.lr);
    return { optimizer, setLearningRate: (lr: number) => optimizer.setLearningRate(lr) };
  },
  baseLearningRate: (o) => o.lr,
});

const constant = defineContribution<ScheduleContribution<Static<typeof ConstantSchema>>>()({
  description: "The optimiser's base learning rate throughout (after an optional linear warm-up).",
  options: ConstantSchema,
  learningRate: ({ options, step, baseLearningRate }) => warmedUp(baseLearningRate, options, step),
});

const piecewise = defineContribution<ScheduleContribution<PiecewiseOptions>>()({
  description: 'Absolute learning rates: values[i] from boundaries[i-1] (in steps) on; one more value than boundaries.',
  options: PiecewiseSchema,
  check: checkPiecewise,
  learningRate: ({ options, step }) => warmedUp(piecewiseRate(options, step), options, step),
});

export default definePlugin({
  name: 'punet-training',
  version: '0.1.0',
  punetApi: '^2.0.0',
  optimizers: { adam, sgd },
  schedules: { constant, piecewise },
});
