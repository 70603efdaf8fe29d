import { describe, expect, it } from 'vitest';
import { splitByGroup } from '../../runtime/data/splits.js';

function checkPartition(groups: string[], splits: Record<'train' | 'val' | 'test', number[]>) {
  const all = [...splits.train, ...splits.val, ...splits.test].sort((a, b) => a - b);
  expect(all).toEqual(groups.map((_, i) => i)); // disjoint and covering
  for (const name of ['train', 'val', 'test'] as const) {
    for (const other of ['train', 'val', 'test'] as const) {
      if (name === other) continue;
      const here = new Set(splits[name].map((i) => groups[i]));
      for (const i of splits[other]) expect(here.has(groups[i]!)).toBe(false); // group-pure
    }
  }
}

describe('splitByGroup', () => {
  const groups = Array.from({ length: 300 }, (_, i) => `patient-${Math.floor(i / 3)}`);

  it('is disjoint, covering, group-pure and near the requested fractions', () => {
    const splits = splitByGroup(groups, { seed: 1 });
    checkPartition(groups, splits);
    // Groups of 3 items: each split is within one group of its target (0.7/0.15/0.15 of 300).
    expect(Math.abs(splits.train.length - 210)).toBeLessThanOrEqual(3);
    expect(Math.abs(splits.val.length - 45)).toBeLessThanOrEqual(3);
    expect(Math.abs(splits.test.length - 45)).toBeLessThanOrEqual(3);
    for (const s of Object.values(splits)) expect(s).toEqual([...s].sort((a, b) => a - b));
  });

  it('is deterministic per seed, different across seeds, and independent of item order', () => {
    expect(splitByGroup(groups, { seed: 5 })).toEqual(splitByGroup(groups, { seed: 5 }));
    expect(splitByGroup(groups, { seed: 5 }).test).not.toEqual(splitByGroup(groups, { seed: 6 }).test);
    const reversed = [...groups].reverse();
    const a = splitByGroup(groups, { seed: 5 });
    const b = splitByGroup(reversed, { seed: 5 });
    const testGroups = (g: string[], s: number[]) => new Set(s.map((i) => g[i]));
    expect(testGroups(reversed, b.test)).toEqual(testGroups(groups, a.test));
  });

  it('honours custom fractions, including an empty split', () => {
    const splits = splitByGroup(groups, { seed: 2, fractions: { train: 0.5, val: 0, test: 0.5 } });
    checkPartition(groups, splits);
    expect(splits.val).toEqual([]);
    expect(Math.abs(splits.train.length - 150)).toBeLessThanOrEqual(3);
  });

  it('gives every split with a positive fraction a group on tiny datasets', () => {
    const tiny = ['a', 'b', 'c'];
    const splits = splitByGroup(tiny, { seed: 0 });
    checkPartition(tiny, splits);
    expect([splits.train.length, splits.val.length, splits.test.length]).toEqual([1, 1, 1]);
  });

  it('rejects fractions that do not sum to 1', () => {
    expect(() => splitByGroup(groups, { seed: 0, fractions: { train: 0.7, val: 0.2, test: 0.2 } })).toThrow(/sum to 1, got 0.7 \+ 0.2 \+ 0.2/);
    expect(() => splitByGroup(groups, { seed: 0, fractions: { train: 1.2, val: -0.2, test: 0 } })).toThrow(/'val' must be >= 0/);
  });
});
