/**
 * compare on a run whose eval.json has no per-image values (written before they were recorded):
 * they are recomputed through the evaluation itself and must equal what training-time evaluation
 * wrote for the same checkpoint.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { punet, tempDir, TINY_SPEC } from '../hardening/helpers.js';

type Eval = { imageIds: string[]; results: Record<string, Record<string, { perImage?: Array<number | null> }>> };

it('recomputes per-image values equal to the training-time evaluation', () => {
  const dir = tempDir('punet-compare-recompute-');
  const run = join(dir, 'run');
  const trained = punet(['compile-and-train', TINY_SPEC, '--out', run], { timeoutMs: 120_000 });
  expect(trained.code, trained.stderr).toBe(0);
  const evalFile = join(run, 'eval.json');
  const original = JSON.parse(readFileSync(evalFile, 'utf8')) as Eval;
  const stripped = structuredClone(original);
  for (const metrics of Object.values(stripped.results)) for (const m of Object.values(metrics)) delete m.perImage;
  writeFileSync(evalFile, JSON.stringify(stripped));

  const r = punet(['compare', run, '--json', '--html', join(dir, 'compare.html')], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/recomputing them/);
  expect(r.stderr).not.toMatch(/averages .* eval\.json says/); // reproduces eval.json's means
  const cache = JSON.parse(readFileSync(join(run, 'compare', 'per-image.json'), 'utf8')) as { imageIds: string[]; values: Record<string, Record<string, Array<number | null>>> };
  expect(cache.imageIds).toEqual(original.imageIds);
  for (const [n, metrics] of Object.entries(original.results)) {
    for (const [id, m] of Object.entries(metrics)) expect(cache.values[n]![id], `${id}@${n}`).toEqual(m.perImage);
  }
});
