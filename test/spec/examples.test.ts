/** The example specs: valid, resolved as documented, and the LIDC one equal to the contract JSON. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../spec/index.js';
import { builtinPlugins, createRegistry } from '../../plugins/index.js';
import { Registry } from '../../compiler/registry.js';
import { EXAMPLES, ROOT } from './helpers.js';

const contract = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/contract/prob-unet-lidc.resolved.json'), 'utf8'));

/** Keys of `actual` (recursively) that the contract does not have: [path, value]. */
function extraKeys(actual: unknown, expected: unknown, at = ''): [string, unknown][] {
  if (!actual || typeof actual !== 'object' || Array.isArray(actual) || !expected || typeof expected !== 'object') return [];
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(actual)) {
    if (!(k in (expected as object))) out.push([`${at}.${k}`.slice(1), v]);
    else out.push(...extraKeys(v, (expected as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return out;
}

/** Removes the given dotted paths from a deep copy. */
function without(value: unknown, paths: string[]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const p of paths) {
    const segs = p.split('.');
    let o = copy as Record<string, unknown>;
    for (const s of segs.slice(0, -1)) o = o[s] as Record<string, unknown>;
    delete o[segs.at(-1)!];
  }
  return copy;
}

/** Key order of every object, as a list of dotted paths in order. */
function keyOrder(value: unknown, at = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${at}${k}`, ...keyOrder(v, `${at}${k}.`)]);
}

describe('examples', () => {
  const registry = createRegistry();

  it('prob-unet-lidc resolves to the contract JSON', async () => {
    const r = await loadSpec(path.join(EXAMPLES, 'prob-unet-lidc.punet'), { registry });
    expect(r.diagnostics).toEqual([]);
    // Every value of the contract is there, unchanged, in the contract's key order.
    const extras = extraKeys(r.spec, contract);
    const trimmed = without(r.spec, extras.map(([p]) => p));
    expect(trimmed).toEqual(contract);
    expect(keyOrder(trimmed)).toEqual(keyOrder(contract));
    // Keys beyond the contract may only be plugin option defaults the contract does not list
    // (reported to the lead: the contract or the plugin defaults should be aligned).
    for (const [p, v] of extras) {
      const [slot, option] = [p.split('.').slice(0, -1), p.split('.').at(-1)!];
      let block: any = r.spec;
      for (const s of slot) block = block[s];
      const kind = block.kind as string;
      const point = { unet: 'blocks', prior: 'blocks', posterior: 'blocks', latent: 'blocks', combiner: 'blocks', 'loss.kl': 'klEstimators', 'loss.objective': 'objectives', 'eval.distance': 'distances', 'train.data': 'dataSources', 'train.schedule': 'schedules' }[slot.join('.')];
      expect(point, `unexpected extra key ${p}`).toBeDefined();
      const schema = registry.get(point as 'blocks', kind)!.contribution.options as { properties: Record<string, { default?: unknown }> };
      expect(schema.properties[option]?.default, `${p} is not a plugin default`).toEqual(v);
    }
    if (extras.length) console.warn(`print adds plugin defaults absent from the contract: ${extras.map(([p]) => p).join(', ')}`);
  });

  it('prob-unet-tiny merges over the LIDC spec as documented', async () => {
    const r = await loadSpec(path.join(EXAMPLES, 'prob-unet-tiny.punet'), { registry });
    // The one warning: Adam at 3e-3 (fine for this net, reported to diverge for the full one).
    expect(r.diagnostics.map((d) => `${d.code} ${d.range?.start.line}`)).toEqual(['W402 26']);
    const s = r.spec!;
    expect(s.model).toBe('prob-unet-tiny');
    expect(r.files.map((f) => path.basename(f))).toEqual(['prob-unet-lidc.punet', 'prob-unet-tiny.punet']);
    expect(s.input).toEqual({ size: [32, 32], channels: 1, classes: 2 }); // size overridden, the rest inherited
    expect(s.unet).toMatchObject({ kind: 'unet', widths: [8, 16, 32], convs_per_block: 2, down: 'avgpool', up: 'bilinear' });
    expect(s.posterior).toMatchObject({ sees: 'image+mask', widths: [8, 16, 32], activation: 'elu' });
    expect(s.prior).toMatchObject({ sees: 'image', widths: [8, 16, 32], activation: 'elu' });
    expect(s.combiner).toMatchObject({ kind: 'fcomb', layers: 3, width: 32 });
    expect(s.latent).toMatchObject({ kind: 'gaussian', size: 6 });
    // The LIDC loss with free bits (issue 15: no collapse across seeds).
    expect(s.loss).toEqual({
      ...contract.loss,
      kl: { kind: 'analytic', free_bits: 0.05 },
      objective: { kind: 'weighted', beta: 1, warmup_steps: 0 },
    });
    expect(s.train.optimizer).toEqual({ kind: 'adam', lr: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    // Same kind: merged key by key, and lists replace whole (no 160000 boundary left behind).
    expect(s.train.schedule).toEqual({ kind: 'piecewise', boundaries: [700], values: [3e-3, 1e-3], warmup_steps: 100 });
    expect(s.train).toMatchObject({ batch_size: 8, steps: 1000, seed: 42, validate_every: 200, validate_samples: 16, select_by: 'ged-hm-iou', checkpoint_every: 200 });
    expect(s.train.data).toMatchObject({ kind: 'synthetic', count: 400 });
    expect(s.eval.samples).toEqual([1, 4, 8, 16]); // inherited
  });

  it('hierarchical fails with one clear unknown-kind error per missing kind without the plugin', async () => {
    const withoutPlugin = new Registry();
    for (const p of builtinPlugins.filter((p) => p.name !== 'punet-hierarchical')) withoutPlugin.register(p, { builtin: true });
    const r = await loadSpec(path.join(EXAMPLES, 'hierarchical.punet'), { registry: withoutPlugin });
    expect(r.spec).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(Array(8).fill('E301'));
    expect(r.diagnostics[0]!.message).toBe("unknown architecture kind 'hierarchical'");
  });

  it('hierarchical resolves once the hierarchical plugin is registered', async () => {
    const r = await loadSpec(path.join(EXAMPLES, 'hierarchical.punet'), { registry: createRegistry() });
    expect(r.diagnostics).toEqual([]);
    const s = r.spec!;
    expect(s.architecture).toEqual({ kind: 'hierarchical' });
    expect(s.unet).toMatchObject({ kind: 'resnet-unet', widths: [24, 48, 96, 192, 192, 192, 192, 192], blocks_per_level: 3 });
    expect(s.posterior!.kind).toBe('hierarchical-posterior');
    expect(s.posterior).not.toHaveProperty('sees'); // replaced whole, nothing of conv-encoder left
    expect(s.latent).toMatchObject({ kind: 'hierarchical-gaussian', scales: 4, channels: 1 });
    expect(s.loss.reconstruction).toMatchObject({ kind: 'top-k-cross-entropy', fraction: 0.02 });
    expect(s.loss.objective).toMatchObject({ kind: 'geco', kappa: 0.05, ema_decay: 0.99 });
    expect(s.loss.kl).toEqual({ kind: 'analytic', free_bits: 0 }); // inherited, with the default
    expect(s.input).toEqual(contract.input);
    expect(s.train.optimizer).toEqual(contract.train.optimizer);
  });
});
