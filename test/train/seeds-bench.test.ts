/**
 * bench/seeds.ts: the 95% t-interval against a hand computation, and the previous recipe it
 * writes resolves to the tiny spec as it was before issue 15 (ReLU encoders, lr 1e-2 without
 * warm-up, no free bits, selection by validation GED).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meanCI95, previousRecipe } from '../../bench/seeds.js';
import { loadSpec } from '../../spec/index.js';
import { createRegistry } from '../../plugins/index.js';

describe('bench/seeds', () => {
  it('meanCI95: mean +- t(0.975, n-1) * sd / sqrt(n)', () => {
    // n = 5: mean 3, sample sd sqrt(2.5), t(0.975, 4) = 2.776.
    const half = (2.776 * Math.sqrt(2.5)) / Math.sqrt(5);
    const ci = meanCI95([1, 2, 3, 4, 5]);
    expect(ci.mean).toBe(3);
    expect(ci.lo).toBeCloseTo(3 - half, 10);
    expect(ci.hi).toBeCloseTo(3 + half, 10);
    expect(meanCI95([0.4]).lo).toBeNaN();
  });

  it('the previous recipe switches every robustness option back off', async () => {
    const tiny = fileURLToPath(new URL('../../examples/prob-unet-tiny.punet', import.meta.url));
    const file = join(mkdtempSync(join(tmpdir(), 'punet-seeds-')), 'previous.punet');
    writeFileSync(file, previousRecipe(tiny));
    const registry = createRegistry();
    const [previous, current] = await Promise.all([loadSpec(file, { registry }), loadSpec(tiny, { registry })]);
    const p = previous.spec!;
    const c = current.spec!;
    expect(p.prior).toEqual({ ...c.prior, activation: 'relu' });
    expect(p.posterior).toEqual({ ...c.posterior, activation: 'relu' });
    expect(p.loss).toEqual({ ...c.loss, kl: { kind: 'analytic', free_bits: 0 }, objective: { kind: 'weighted', beta: 1, warmup_steps: 0 } });
    expect(p.train).toEqual({
      ...c.train,
      optimizer: { ...c.train.optimizer, lr: 1e-2 },
      schedule: { ...c.train.schedule, values: [1e-2, 1e-3], warmup_steps: 0 },
      select_by: 'ged',
    });
    expect({ ...p, model: '', prior: c.prior, posterior: c.posterior, loss: c.loss, train: c.train }).toEqual({ ...c, model: '' });
  });
});
