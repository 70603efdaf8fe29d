/**
 * The example variant specs: each resolves through the front end (loading its `use` plugins),
 * differs from examples/prob-unet-tiny.punet in exactly the one thing it swaps, compiles through
 * the registry, computes its loss at full size (forward) and takes a training step at 16x16.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { loadSpec, formatDiagnostics } from '../../spec/index.js';
import { loadUsePlugins } from '../../spec/frontend-cli.js';
import type { Registry } from '../../compiler/registry.js';
import type { ResolvedSpec } from '../../compiler/api.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { registryWithHierarchical, squareBatch } from './helpers.js';

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}.punet`, import.meta.url));

async function resolve(name: string, registry: Registry): Promise<ResolvedSpec> {
  const result = await loadSpec(example(name), { registry, loadPlugins: loadUsePlugins });
  if (!result.spec) throw new Error(formatDiagnostics(result.diagnostics, { sources: result.sources }));
  return result.spec;
}

/** Dotted paths where two JSON values differ (a changed kind counts once, at the block). */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return [path];
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  if ('kind' in ao && ao.kind !== bo.kind) return [path];
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  return [...keys].flatMap((k) => differences(ao[k], bo[k], path ? `${path}.${k}` : k));
}

let base: ResolvedSpec;
beforeAll(async () => {
  await tf.setBackend('cpu');
  base = await resolve('prob-unet-tiny', registryWithHierarchical());
});

/** The loss terms at the spec's own size, forward only (the cpu backend's conv gradient is slow). */
function lossAtFullSize(spec: ResolvedSpec, registry: Registry) {
  const model = compileModel(spec, registry);
  const training = compileTraining(spec, registry);
  const { images, masks } = squareBatch(tf, 2, spec.input.size[0]);
  const values = tf.tidy(() => {
    const terms = training.lossTerms(model, images, masks, 1, training.initialObjectiveState());
    return { loss: terms.loss.dataSync()[0]!, kl: terms.kl.dataSync()[0]!, logs: Object.fromEntries(Object.entries(terms.logs).map(([k, v]) => [k, v.dataSync()[0]!])) };
  });
  model.dispose();
  tf.dispose([images, masks]);
  return values;
}

/** The same spec at 16x16 with narrow blocks: one real optimisation step must change the weights. */
async function stepShrunk(spec: ResolvedSpec, registry: Registry): Promise<number> {
  const small = structuredClone(spec);
  small.input = { ...small.input, size: [16, 16] };
  for (const role of ['unet', 'prior', 'posterior'] as const) {
    const block = small[role];
    if (block && Array.isArray(block.widths)) block.widths = (block.widths as number[]).slice(0, 3).map((w) => Math.max(2, w / 4));
  }
  if (small.combiner?.kind === 'fcomb') small.combiner.width = (small.unet!.widths as number[])[0];
  if (small.latent?.kind === 'hierarchical-gaussian') small.latent.scales = 2;
  const model = compileModel(small, registry);
  const training = compileTraining(small, registry);
  const handle = training.createOptimizer();
  const { images, masks } = squareBatch(tf, 2, 16);
  const before = model.variables.map((v) => v.variable).map((v) => v.dataSync().slice());
  const result = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state: training.initialObjectiveState() });
  const changed = model.variables.map((v) => v.variable).filter((v, i) => v.dataSync().some((x, j) => x !== before[i]![j])).length;
  expect(Number.isFinite(result.loss)).toBe(true);
  handle.optimizer.dispose();
  model.dispose();
  tf.dispose([images, masks]);
  return changed;
}

describe('example variants swap exactly one thing', () => {
  const cases: Array<[string, string[]]> = [
    ['variant-geco', ['loss.objective']],
    ['variant-topk', ['loss.reconstruction']],
    ['variant-dice', ['eval.distance', 'use.0']],
    ['variant-focal', ['loss.reconstruction', 'use.0']],
  ];
  for (const [name, swapped] of cases) {
    it(`${name}: changes only ${swapped.join(' and ')}, and trains a step`, async () => {
      const registry = registryWithHierarchical();
      const spec = await resolve(name, registry);
      const changed = differences({ ...base, model: '' }, { ...spec, model: '' }).map((p) => p.replace(/^use$/, 'use.0'));
      expect(changed.sort()).toEqual([...swapped].sort());
      const full = lossAtFullSize(spec, registry);
      expect(Number.isFinite(full.loss)).toBe(true);
      if (name === 'variant-geco') expect(full.logs.geco_lambda).toBeCloseTo(1, 5);
      expect(await stepShrunk(spec, registry)).toBeGreaterThan(0);
    });
  }
});

describe('hierarchical-tiny', () => {
  it('swaps only the architecture, blocks, latent, loss and learning rate of the tiny model, and trains a step', async () => {
    const registry = registryWithHierarchical();
    const spec = await resolve('hierarchical-tiny', registry);
    const changed = differences({ ...base, model: '' }, { ...spec, model: '' });
    expect(changed.sort()).toEqual(
      [
        ...['architecture', 'unet', 'prior', 'posterior', 'latent', 'combiner'],
        ...['loss.reconstruction', 'loss.kl.free_bits', 'loss.objective'],
        ...['train.optimizer.lr', 'train.schedule.values', 'train.schedule.warmup_steps'],
      ].sort(),
    );
    // The paper's loss, with the warm-up that gets top-k off the p = 0.5 plateau.
    expect(spec.loss.reconstruction).toMatchObject({ kind: 'top-k-cross-entropy', fraction: 0.02, warmup_steps: 300 });
    expect(spec.loss.objective).toMatchObject({ kind: 'geco', kappa: 0.05, pixel_fraction: 0.02 });
    const full = lossAtFullSize(spec, registry);
    expect(Number.isFinite(full.loss)).toBe(true);
    expect(full.kl).toBeGreaterThanOrEqual(0);
    expect(await stepShrunk(spec, registry)).toBeGreaterThan(0);
  });

  it('examples/hierarchical.punet (the paper configuration) resolves with the hierarchical kinds', async () => {
    const spec = await resolve('hierarchical', registryWithHierarchical());
    expect([spec.architecture.kind, spec.unet!.kind, spec.latent!.kind, spec.loss.reconstruction.kind, spec.loss.objective.kind]).toEqual([
      'hierarchical',
      'resnet-unet',
      'hierarchical-gaussian',
      'top-k-cross-entropy',
      'geco',
    ]);
  });
});
