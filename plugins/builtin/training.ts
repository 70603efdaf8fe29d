/**
 * Built-in optimisers (`adam`, `sgd`) and learning-rate schedules (`constant`, `piecewise`).
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
interface PiecewiseOptions {
  boundaries: number[];
  values: number[];
}

const lrSchema = { type: 'number', exclusiveMinimum: 0, description: 'Base learning rate.' } as const;

/** The value for `step`: values[i] where boundaries[i-1] <= step < boundaries[i]. */
export function piecewiseRate(o: PiecewiseOptions, step: number): number {
  let i = 0;
  while (i < o.boundaries.length && step >= o.boundaries[i]!) i++;
  return o.values[i]!;
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
  punetApi: '^1.0.0',
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
      description: "The optimiser's base learning rate throughout.",
      options: { type: 'object', additionalProperties: false, properties: {} },
      learningRate: ({ baseLearningRate }) => baseLearningRate,
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
        },
      },
      check: (o) => checkPiecewise(o as PiecewiseOptions),
      learningRate: ({ options, step }) => piecewiseRate(options as PiecewiseOptions, step),
    },
  },
});
