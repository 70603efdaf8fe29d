/**
 * Seeded train/val/test splits by group, shared by every data source.
 *
 * Groups (patients, series, generator groups) never straddle splits, since splitting by slice
 * instead of by patient leaks data. The order of groups is a seeded hash of (seed, group name),
 * so a group's place does not depend on which other groups exist or on item order. Groups are
 * laid end to end in that order, weighted by their item counts, and each goes to the split its
 * midpoint falls in (fractions are therefore met as closely as group sizes allow).
 */
import type { SplitName } from './types.js';
import { fmix32 } from '../train/rng.js';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };

const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** 32-bit FNV-1a of a string, mixed with the seed and finalised (murmur3 fmix) for spread. */
function hashGroup(seed: number, group: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < group.length; i++) {
    h ^= group.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function checkFractions(f: SplitFractions): void {
  for (const name of SPLIT_NAMES) {
    if (!(f[name] >= 0)) throw new Error(`split fraction '${name}' must be >= 0, got ${f[name]}`);
  }
  const total = f.train + f.val + f.test;
  if (Math.abs(total - 1) > 1e-6) {
    throw new Error(`split fractions must sum to 1, got ${f.train} + ${f.val} + ${f.test} = ${total}`);
  }
}

/**
 * Splits items (given by their group names, one per item) into train/val/test index lists.
 * Each list is sorted ascending. When there are at least as many groups as splits with a
 * positive fraction, every such split gets at least one group (taken from the largest split).
 */
export function splitByGroup(
  groups: readonly string[],
  opts: { seed: number; fractions?: SplitFractions },
): Record<SplitName, number[]> {
  const fractions = opts.fractions ?? DEFAULT_SPLIT_FRACTIONS;
  checkFractions(fractions);
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  });
  const ordered = [...members.keys()]
    .map((name) => ({ name, key: hashGroup(opts.seed, name) }))
    .sort((a, b) => a.key - b.key || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((g) => g.name);

  const assigned = new Map<SplitName, string[]>(SPLIT_NAMES.map((s) => [s, []]));
  const trainEnd = fractions.train;
  const valEnd = fractions.train + fractions.val;
  let before = 0;
  for (const name of ordered) {
    const size = members.get(name)!.length;
    const midpoint = (before + size / 2) / groups.length;
    before += size;
    const split: SplitName = midpoint < trainEnd ? 'train' : midpoint < valEnd ? 'val' : 'test';
    assigned.get(split)!.push(name);
  }
  fillEmptySplits(assigned, fractions);

  const out = {} as Record<SplitName, number[]>;
  for (const split of SPLIT_NAMES) {
    out[split] = assigned
      .get(split)!
      .flatMap((g) => members.get(g)!)
      .sort((a, b) => a - b);
  }
  return out;
}

/** Small datasets: a split with a positive fraction but no group takes one from the largest split. */
function fillEmptySplits(assigned: Map<SplitName, string[]>, fractions: SplitFractions): void {
  for (const split of ['test', 'val', 'train'] as const) {
    if (fractions[split] <= 0 || assigned.get(split)!.length > 0) continue;
    const donor = SPLIT_NAMES.filter((s) => s !== split).sort((a, b) => assigned.get(b)!.length - assigned.get(a)!.length)[0]!;
    const donorGroups = assigned.get(donor)!;
    if (donorGroups.length < 2) continue;
    assigned.get(split)!.push(donorGroups.pop()!);
  }
}
