/** The built-in data sources (plugins/builtin/data.ts) through the registry, as the runtime calls them. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../../compiler/registry.js';
import { resolveEntry } from '../../compiler/options.js';
import dataPlugin from '../../plugins/builtin/data.js';
import type { InputSpec, ResolvedSpec } from '../../compiler/api.js';
import { writePng } from '../../runtime/data/png.js';
import { writeDataset } from '../../runtime/data/store.js';
import { syntheticDataset } from '../../runtime/data/synthetic.js';

const registry = new Registry();
registry.register(dataPlugin, { builtin: true });
const input: InputSpec = { size: [32, 32], channels: 1, classes: 2 };
/** What a data source's check sees of the spec: the input. */
const spec = { input } as unknown as ResolvedSpec;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punet-source-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function load(entry: { kind: string; [k: string]: unknown }, opts: { seed?: number; input?: InputSpec; specDir?: string } = {}) {
  const r = resolveEntry(registry, 'dataSources', entry, 'train.data', spec);
  return r.contribution.load({ options: r.options, input: opts.input ?? input, seed: opts.seed ?? 42, specDir: opts.specDir ?? dir });
}

describe('data sources', () => {
  it('registers synthetic, png-folder and dataset', () => {
    expect(registry.ids('dataSources')).toEqual(['dataset', 'png-folder', 'synthetic']);
  });

  it('synthetic: defaults, input size, and the seed rule (train.seed + seed_offset unless seed is set)', async () => {
    const defaults = resolveEntry(registry, 'dataSources', { kind: 'synthetic' }, 'train.data', spec).options;
    expect(defaults).toMatchObject({ count: 240, annotators: 4, seed_offset: 0, noise: 0.06, splits: [0.7, 0.15, 0.15] });
    const small = { kind: 'synthetic', count: 12 };
    const a = await load(small, { seed: 5, input: { size: [24, 40], channels: 1, classes: 2 } });
    expect([a.height, a.width, a.items.length, a.items[0]!.annotations.length]).toEqual([24, 40, 12, 4]);
    const sameAsRunSeed = syntheticDataset({ count: 12, seed: 5, height: 24, width: 40 });
    expect(Array.from(a.items[3]!.image)).toEqual(Array.from(sameAsRunSeed.items[3]!.image));
    const offset = await load({ ...small, seed_offset: 2 }, { seed: 5 });
    expect(Array.from(offset.items[0]!.image)).toEqual(Array.from(syntheticDataset({ count: 1, seed: 7 }).items[0]!.image));
    const fixed1 = await load({ ...small, seed: 9 }, { seed: 1 });
    const fixed2 = await load({ ...small, seed: 9 }, { seed: 2 });
    expect(Array.from(fixed1.items[0]!.image)).toEqual(Array.from(fixed2.items[0]!.image));
  });

  it('synthetic: option problems name the option', () => {
    expect(() => resolveEntry(registry, 'dataSources', { kind: 'synthetic', splits: [0.5, 0.5, 0.5] }, 'train.data', spec)).toThrow(/splits: must sum to 1/);
    expect(() => resolveEntry(registry, 'dataSources', { kind: 'synthetic', min_shapes: 4, max_shapes: 2 }, 'train.data', spec)).toThrow(/min_shapes: must be <= max_shapes/);
    expect(() => resolveEntry(registry, 'dataSources', { kind: 'synthetic', count: 0 }, 'train.data', spec)).toThrow(/count/);
  });

  it('png-folder: reads a folder relative to the spec directory', async () => {
    const data = join(dir, 'data', 'pngs');
    for (const id of ['a', 'b', 'c']) {
      mkdirSync(join(data, id), { recursive: true });
      writePng(join(data, id, 'image.png'), { width: 32, height: 32, channels: 1, data: new Uint8Array(32 * 32).fill(128) });
      writePng(join(data, id, 'annotation-0.png'), { width: 32, height: 32, channels: 1, data: new Uint8Array(32 * 32) });
    }
    const ds = await load({ kind: 'png-folder', path: 'pngs' }, { specDir: join(dir, 'data') });
    expect(ds.items.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(ds.items[0]!.image[0]).toBeCloseTo(128 / 255, 6);
    await expect(load({ kind: 'png-folder', path: 'nowhere' })).rejects.toThrow(/nowhere is not a folder/);
    expect(() => resolveEntry(registry, 'dataSources', { kind: 'png-folder' }, 'train.data', spec)).toThrow(/path/);
  });

  it('dataset: reads an imported folder, checks it against input, splits when unassigned', async () => {
    const source = syntheticDataset({ count: 10, seed: 1 });
    writeDataset(join(dir, 'ds'), source);
    const ds = await load({ kind: 'dataset', path: 'ds' });
    expect(ds.items).toHaveLength(10);
    expect(ds.splits).toEqual(source.splits);
    expect(Array.from(ds.items[2]!.annotations[1]!)).toEqual(Array.from(source.items[2]!.annotations[1]!));
    expect(ds.items[2]!.modes?.map((m) => m.probability)).toEqual(source.items[2]!.modes.map((m) => m.probability));
    await expect(load({ kind: 'dataset', path: 'ds' }, { input: { size: [64, 64], channels: 1, classes: 2 } })).rejects.toThrow(
      /images are 32x32 \(height x width\) but input.size is \[64, 64\]/,
    );
    const unsplit = { ...source, splits: { train: [], val: [], test: [] } };
    writeDataset(join(dir, 'unsplit'), unsplit);
    const split = await load({ kind: 'dataset', path: 'unsplit' });
    expect([...split.splits.train, ...split.splits.val, ...split.splits.test].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });
});
