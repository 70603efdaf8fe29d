/**
 * SSN through compile-and-train with validation on: a model without latents must pass the
 * validation's collapse check (KL per latent dimension has nothing to report) and free bits.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../cli/helpers.js';
import { punet, tempDir } from '../hardening/helpers.js';

it('ssn-tiny trains with validation and free bits, and evaluates its best checkpoint', () => {
  const dir = tempDir('punet-ssn-train-');
  const spec = join(dir, 'ssn-short.punet');
  writeFileSync(
    spec,
    `extends "${join(ROOT, 'examples/ssn-tiny.punet')}"\nmodel "ssn-short" {\n  loss { kl analytic { free_bits: 0.05 } }\n` +
      `  train { steps: 4 steps  validate_every: 2 steps  validate_samples: 2  checkpoint_every: 2 steps  data synthetic { count: 40 } }\n}\n`,
  );
  const r = punet(['compile-and-train', spec, '--out', join(dir, 'run')], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/validation at step 2: GED/);
  expect(r.stdout).toMatch(/validation at step 4: GED/);
});
