/**
 * Built-in optimisers (`adam`, `sgd`) and learning-rate schedules (`constant`, `piecewise`, both
 * with an optional linear warm-up).
 * No TensorFlow.js import: `tf` arrives in ctx.
 */
import { definePlugin } from '../../compiler/api.js';
import type { OptionProblem } from '../../compiler/api.js';
import { createFlatAdam } from './flat-adam.js';

interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}
interface SgdOptions {
  lr: number;
  momentum: number;
}
interface WarmupOptions {
  warmup_steps: number;
}
interface PiecewiseOptions extends WarmupOptions {
  boundaries: number[];
  values: number[];
}

const warmupSchema = {
  type: 'integer',
  minimum: 0,
  default: 0,
  description:
    'Learning-rate warm-up: the rate rises linearly over this many steps (step s: rate * (s + 1) / N). Large first Adam steps can kill ReLUs for good. 0 = off.',
} as const;

/** `rate` scaled by the linear warm-up at 0-based `step`: rate * min(1, (step + 1) / warmup_steps). */
export function warmedUp(rate: number, o: WarmupOptions, step: number): number {
  return o.warmup_steps > 0 ? rate * Math.min(1, (step + 1) / o.warmup_steps) : rate;
}

const lrSchema = { type: 'number', exclusiveMinimum: 0, description: 'Base learning rate.' } as const;

/** The value for `step`: values[i] where boundaries[i-1] <= step < boundaries[i]. */
export function piecewiseRate(o: PiecewiseOptions, step: number): number {
  let i = 0;
  while (i < o.boundaries.length && step >= o.boundaries[i]!) i++;
  return o.values[i]!;
}

/** Kohl et al. report NaNs with Adam above 1e-3 (SGD rates are on another scale, so only Adam warns). */
function checkAdamRate(o: AdamOptions): OptionProblem[] {
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

export default definePlugin({
  name: 'punet-training',
  version: '0.1.0',
  punetApi: '^2.0.0',
  optimizers: {
    adam: {
      description: 'Adam (Kingma & Ba); the reference uses lr 1e-4 (1e-3 is reported to produce NaNs).',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: {
          lr: { ...lrSchema, default: 1e-4 },
          beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
          beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 },
          epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-8 },
        },
      },
      check: (o) => checkAdamRate(o as AdamOptions),
      create: ({ tf, options }) => {
        // tfjs's Adam arithmetic on one flat vector: a few kernels per step instead of ~14 per variable.
        const optimizer = createFlatAdam(tf, options as AdamOptions);
        return {
          optimizer,
          setLearningRate: (lr: number) => {
            optimizer.learningRate = lr;
          },
        };
      },
      baseLearningRate: (o) => (o as AdamOptions).lr,
    },
    sgd: {
      description: 'Stochastic gradient descent, with optional (heavy-ball) momentum.',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: {
          lr: { ...lrSchema, default: 0.01 },
          momentum: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
        },
      },
      create: ({ tf, options }) => {
        const o = options as SgdOptions;
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
      baseLearningRate: (o) => (o as SgdOptions).lr,
    },
  },
  schedules: {
    constant: {
      description: "The optimiser's base learning rate throughout (after an optional linear warm-up).",
      options: { type: 'object', additionalProperties: false, properties: { warmup_steps: warmupSchema } },
      learningRate: ({ options, step, baseLearningRate }) => warmedUp(baseLearningRate, options as WarmupOptions, step),
    },
    piecewise: {
      description: 'Absolute learning rates: values[i] from boundaries[i-1] (in steps) on; one more value than boundaries.',
      options: {
        type: 'object',
        additionalProperties: false,
        required: ['boundaries', 'values'],
        properties: {
          boundaries: { type: 'array', items: { type: 'integer', minimum: 1 }, description: 'Steps at which the rate changes, increasing.' },
          values: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, description: 'Learning rates, one more than boundaries.' },
          warmup_steps: warmupSchema,
        },
      },
      check: (o) => checkPiecewise(o as PiecewiseOptions),
      learningRate: ({ options, step }) => warmedUp(piecewiseRate(options as PiecewiseOptions, step), options as PiecewiseOptions, step),
    },
  },
});
