/** train.early_stop's patience counter (the end-to-end case is in test/sweep/sweep.test.ts). */
import { describe, expect, it } from 'vitest';
import { EarlyStop } from '../../runtime/train/trainer.js';

const run = (stop: EarlyStop, values: number[]) => values.map((v) => stop.shouldStop(v));

describe('EarlyStop', () => {
  it('stops after `patience` validations without improvement, and an improvement resets the count', () => {
    expect(run(new EarlyStop(2, 0), [0.5, 0.4, 0.45, 0.39, 0.39, 0.41])).toEqual([false, false, false, false, false, true]);
  });

  it('an improvement smaller than min_delta does not count', () => {
    expect(run(new EarlyStop(2, 0.05), [0.5, 0.47, 0.46])).toEqual([false, false, true]);
  });

  it('NaN never improves; a resumed run starts from the saved best', () => {
    expect(run(new EarlyStop(1, 0), [NaN])).toEqual([true]);
    expect(run(new EarlyStop(2, 0, { ged: 0.3 }), [0.31, 0.29, 0.3, 0.3])).toEqual([false, false, false, true]);
  });
});
