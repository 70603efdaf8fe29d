/**
 * The posterior-collapse check at validation: it fires on a synthetic collapsed run (a KL weight
 * so large that the posterior is pushed onto the prior in a few steps) and names the step; it
 * stays silent on healthy numbers; and checkpoint selection scores as documented.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../runtime/train/trainer.js';
import { collapseWarning, selectionScore } from '../../runtime/train/validation.js';
import { compileTiny, quiet, tempDir, testRegistry, tinyDataset, tinySpec, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('collapse warning', () => {
  const healthy = { klPerDim: [0.8, 0.3, 0.02, 0.001], diversity: 0.31, annotatorDiversity: 0.4 };

  it('is silent when the latent carries information and the samples spread like the annotators', () => {
    expect(collapseWarning(200, healthy)).toBeUndefined();
  });

  it('fires on a near-zero KL, naming the step and the active dimensions', () => {
    const w = collapseWarning(400, { ...healthy, klPerDim: [0.004, 0.003, 0, 0.001] });
    expect(w).toMatch(/^step 400: posterior collapse suspected: KL 0\.0080 nats per image \(0 of 4 latent dims above 0\.01\)/);
    expect(w).not.toMatch(/sample diversity/);
  });

  it("fires on samples far less diverse than the annotators, even with some KL left", () => {
    const w = collapseWarning(600, { ...healthy, diversity: 0.02 });
    expect(w).toMatch(/^step 600: posterior collapse suspected: sample diversity 0\.020 vs the annotators' 0\.400/);
  });

  it('does not blame diversity when the annotators agree (nothing to spread)', () => {
    expect(collapseWarning(1, { ...healthy, diversity: 0, annotatorDiversity: 0 })).toBeUndefined();
  });
});

describe('checkpoint selection score', () => {
  it('ged: the GED; ged-hm-iou: GED + 1 - HM-IoU; last: never improves', () => {
    expect(selectionScore('ged', 0.3, 0.6)).toBe(0.3);
    expect(selectionScore('ged-hm-iou', 0.3, 0.6)).toBeCloseTo(0.7, 12);
    expect(selectionScore('last', 0.3, 0.6)).toBeNaN();
  });
});

describe('a synthetic collapsed run', () => {
  it('warns at the validation step and logs the event with KL per latent dim', async () => {
    const spec = tinySpec({ steps: 20, validate_every: 20, checkpoint_every: 0, validate_samples: 4 });
    spec.train.optimizer = { kind: 'adam', lr: 5e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
    spec.loss.objective = { kind: 'weighted', beta: 1e4, warmup_steps: 0 };
    const registry = testRegistry();
    const { model, dispose } = compileTiny(spec, registry);
    const runDir = tempDir();
    const warnings: string[] = [];
    try {
      await train({ spec, registry, model, dataset: tinyDataset(), runDir, specHash: 'test', out: quiet, warn: (m) => warnings.push(m) });
    } finally {
      dispose();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^step 20: posterior collapse suspected: KL [0-9.]+ nats per image \(0 of 2 latent dims/);
    const records = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const validation = records.find((r) => r.event === 'validation')!;
    expect(validation.kl_per_dim).toHaveLength(2);
    expect((validation.kl_per_dim as number[]).every((v) => v >= 0 && v < 0.01)).toBe(true);
    expect(records.find((r) => r.event === 'collapse-warning')).toMatchObject({ step: 20, message: warnings[0] });
  });
});
