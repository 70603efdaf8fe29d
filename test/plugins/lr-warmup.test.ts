/** Learning-rate warm-up on the built-in schedules: rate * min(1, (step + 1) / N), by hand. */
import { describe, expect, it } from 'vitest';
import training from '../../plugins/builtin/training.js';

const { constant, piecewise } = training.schedules;

describe('learning-rate warm-up', () => {
  it('constant: rises linearly to the base rate over warmup_steps, then holds', () => {
    const rate = (step: number) => constant.learningRate({ options: { warmup_steps: 4 }, step, baseLearningRate: 0.01, totalSteps: 10 });
    expect([0, 1, 2, 3, 4, 9].map(rate)).toEqual([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01]);
  });

  it('piecewise: scales the piecewise value during the warm-up, off with 0', () => {
    const options = { boundaries: [3], values: [0.01, 0.001], warmup_steps: 5 };
    const rate = (step: number, o = options) => piecewise.learningRate({ options: o, step, baseLearningRate: 1, totalSteps: 10 });
    expect(rate(0)).toBeCloseTo(0.01 / 5, 12);
    expect(rate(2)).toBeCloseTo((0.01 * 3) / 5, 12);
    expect(rate(3)).toBeCloseTo((0.001 * 4) / 5, 12);
    expect(rate(4)).toBe(0.001);
    expect(rate(0, { ...options, warmup_steps: 0 })).toBe(0.01);
  });
});
