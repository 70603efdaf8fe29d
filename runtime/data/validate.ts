/**
 * The one set of rules every dataset obeys, whoever made it: `punet import` (checked before it is
 * written), a dataset folder, a PNG folder, the synthetic generator or a plugin's data source
 * (checked when loaded, against the spec's input). Problems come back as plain sentences so each
 * caller can say whose data it is.
 */
import type { InputSpec } from '../../spec/types.js';
import type { Dataset, SplitName } from './types.js';

const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];
/** Enough to see what is wrong; a broken generator would otherwise list every item. */
const MAX_PROBLEMS = 5;

export interface DatasetRules {
  /** The spec's input: image size, channels and classes must fit it. */
  input?: Pick<InputSpec, 'size' | 'channels' | 'classes'>;
  /** Training and testing need items: a loaded dataset must have train and test splits (an import may leave splits to the loader). */
  requireSplits?: boolean;
}

/** Every problem of `dataset` (at most a few of each kind), or [] when it is sound. */
export function datasetProblems(dataset: Dataset, rules: DatasetRules = {}): string[] {
  const problems: string[] = [];
  const { height, width, channels, classes } = dataset;
  for (const [key, value] of Object.entries({ height, width, channels, classes })) {
    if (!Number.isInteger(value) || value <= 0) problems.push(`${key} must be a positive integer, got ${value}`);
  }
  if (classes > 256) problems.push(`at most 256 classes fit in uint8 masks, got ${classes}`);
  if (problems.length) return problems;
  if (rules.input) problems.push(...inputMismatch(dataset, rules.input));
  if (!Array.isArray(dataset.items)) return [...problems, 'items must be a list'];

  const pixels = height * width;
  const itemProblems: string[] = [];
  const ids = new Set<string>();
  dataset.items.forEach((item, index) => {
    const name = `item ${index} (${JSON.stringify(item?.id)})`;
    if (!(item?.image instanceof Float32Array)) itemProblems.push(`${name}: image must be a Float32Array`);
    else if (item.image.length !== pixels * channels) itemProblems.push(`${name}: image has ${item.image.length} values, expected ${pixels * channels} (${height}x${width}x${channels})`);
    if (ids.has(item?.id)) itemProblems.push(`${name}: id used twice`);
    ids.add(item?.id);
    if (!Array.isArray(item?.annotations) || item.annotations.length === 0) itemProblems.push(`${name}: needs at least one annotation`);
    const masks = [...(item?.annotations ?? []).map((m, a) => ({ m, what: `annotation ${a}` })), ...(item?.modes ?? []).map((mode, k) => ({ m: mode?.mask, what: `mode ${k}` }))];
    for (const { m, what } of masks) {
      if (!(m instanceof Uint8Array)) itemProblems.push(`${name}: ${what} must be a Uint8Array`);
      else if (m.length !== pixels) itemProblems.push(`${name}: ${what} has ${m.length} pixels, expected ${pixels} (${height}x${width})`);
      else {
        const bad = m.findIndex((v) => v >= classes);
        if (bad >= 0) itemProblems.push(`${name}: ${what} has class ${m[bad]} at pixel ${bad}, but there are ${classes} classes (ids 0-${classes - 1})`);
      }
    }
  });
  problems.push(...capped(itemProblems));
  problems.push(...splitProblems(dataset, rules.requireSplits ?? false));
  return problems;
}

function inputMismatch(d: Dataset, input: NonNullable<DatasetRules['input']>): string[] {
  const [h, w] = input.size;
  const out: string[] = [];
  if (d.height !== h || d.width !== w) out.push(`images are ${d.height}x${d.width}, the spec's input.size is [${h}, ${w}]`);
  if (d.channels !== input.channels) out.push(`images have ${d.channels} channels, input.channels is ${input.channels}`);
  if (d.classes > input.classes) out.push(`masks have ${d.classes} classes, input.classes is ${input.classes}`);
  return out;
}

function splitProblems(d: Dataset, requireSplits: boolean): string[] {
  const out: string[] = [];
  const splitOf = new Map<number, SplitName>();
  for (const split of SPLITS) {
    const indices = d.splits?.[split];
    if (!Array.isArray(indices)) {
      out.push(`splits.${split} must be a list of item indices`);
      continue;
    }
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0 || index >= d.items.length) out.push(`splits.${split} holds ${index}, not an item index (0-${d.items.length - 1})`);
      else if (splitOf.has(index)) out.push(`item ${index} is in both ${splitOf.get(index)} and ${split}: splits must be disjoint`);
      else splitOf.set(index, split);
    }
    if (requireSplits && split === 'train' && indices.length === 0) out.push('it has no training items (the train split is empty): give the train split a share');
    if (requireSplits && split === 'test' && indices.length === 0) {
      out.push('it has no test images, so the trained model could not be evaluated; give it a test share (e.g. splits: [0.7, 0.15, 0.15], or --split when importing)');
    }
  }
  return capped(out);
}

function capped(problems: string[]): string[] {
  return problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`] : problems;
}
