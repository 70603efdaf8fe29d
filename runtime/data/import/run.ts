/**
 * `punet import` without the CLI: scan a source in one of the layouts, load and prepare every
 * item (skipping bad ones, or failing on the first with `strict`), split by group, and write
 * the dataset atomically. Returns the report that is printed and stored in the provenance.
 */
import { basename, resolve } from 'node:path';
import type { Dataset, DataItem, SplitName } from '../types.js';
import { splitByGroup, DEFAULT_SPLIT_FRACTIONS } from '../splits.js';
import { writeDataset } from '../store.js';
import { toChannels } from '../image-ops.js';
import type { DeepRasterImage } from '../png.js';
import { intensityWindow, type IntensityRecord } from '../normalize.js';
import { DataError } from '../errors.js';
import { UserError } from '../../cli/errors.js';
import type { ImportOptions, ScanResult } from './options.js';
import { ImportIssue, asIssue, type IssueKind } from './issues.js';
import { prepareItem, type PreparedItem } from './prepare.js';
import { scanFolders } from './folders.js';
import { scanLidcPng } from './lidc-png.js';
import { scanLidcPickle } from './lidc-pickle.js';

export interface ImportReport {
  layout: string;
  source: string;
  output: string;
  imagesFound: number;
  annotators: string[];
  itemsWritten: number;
  skipped: { count: number; byReason: Partial<Record<IssueKind, number>>; items: { id: string; reason: IssueKind; message: string }[] };
  notes: string[];
  sourceSizes: Record<string, number>;
  polarity: Record<string, number>;
  crops: Record<string, number>;
  splits: Record<SplitName, number>;
  splitMethod: string;
  /** Bit depth found, raw value range, and the intensity window used (runtime/data/normalize.ts). */
  intensity: IntensityRecord;
  shape: { height: number; width: number; channels: number; classes: number };
}

export function scanSource(src: string, options: ImportOptions): ScanResult {
  switch (options.layout) {
    case 'folders':
      return scanFolders(src, options);
    case 'lidc-png':
      return scanLidcPng(src);
    case 'lidc-pickle':
      return scanLidcPickle(src);
  }
}

export function importDataset(src: string, out: string, options: ImportOptions): { report: ImportReport; dataset: Dataset } {
  const scan = scanSource(src, options);
  if (scan.imagesFound === 0) {
    throw new DataError(`found no images in ${src} for layout '${options.layout}'; check the path and --layout (see docs/data.md)`, src);
  }
  const issues: ImportIssue[] = [];
  const fail = (issue: ImportIssue): never => {
    throw new UserError(`${issue.message}\n(--strict stops at the first problem; without it this item would be skipped and reported)`);
  };
  for (const issue of scan.issues) {
    if (options.strict) fail(issue);
    issues.push(issue);
  }

  const kept: { id: string; group: string; sourceSplit?: SplitName; prepared: PreparedItem }[] = [];
  for (const item of scan.items) {
    try {
      const prepared = prepareItem(item.id, item.file, item.load(), options);
      kept.push({ id: item.id, group: item.group, sourceSplit: item.sourceSplit, prepared });
    } catch (err) {
      const issue = asIssue(err, item.id, item.file);
      if (options.strict) fail(issue);
      issues.push(issue);
    }
  }
  if (kept.length === 0) {
    const reasons = summariseReasons(issues);
    throw new DataError(
      `no usable items in ${src}: ${scan.imagesFound} image(s) found, all skipped (${reasons || 'none'}).` + (issues[0] ? `\nFirst problem: ${issues[0].message}` : ''),
      src,
    );
  }

  // One channel count for the whole dataset: colour only if some source image is colour.
  const channels = kept.some((k) => k.prepared.image.channels === 3) ? 3 : 1;
  // One sample scale too: 8-bit images of a dataset with 16-bit ones move to the 16-bit scale.
  const maxValue = Math.max(...kept.map((k) => k.prepared.image.maxValue));
  const rasters = kept.map(({ prepared }) => onScale(toChannels(prepared.image, channels), maxValue));
  const { values, record: intensity } = intensityWindow(rasters, kept.map((k) => k.prepared.bitDepth), options.intensity, options.percentiles);
  const items: DataItem[] = kept.map(({ id, group, prepared }, i) => ({ id, group, image: values[i]!, annotations: prepared.annotations }));

  const { splits, splitMethod } = makeSplits(kept, options);
  const report: ImportReport = {
    layout: options.layout,
    source: resolve(src),
    output: resolve(out),
    imagesFound: scan.imagesFound,
    annotators: scan.annotators,
    itemsWritten: items.length,
    skipped: {
      count: issues.length,
      byReason: countBy(issues.map((i) => i.kind)),
      items: issues.map((i) => ({ id: i.itemId, reason: i.kind, message: i.message })),
    },
    notes: scan.notes,
    sourceSizes: countBy(kept.map((k) => k.prepared.sourceSize)),
    polarity: countBy(kept.flatMap((k) => k.prepared.polarities)),
    crops: countBy(kept.map((k) => k.prepared.cropUsed)),
    splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length },
    splitMethod,
    intensity,
    shape: { height: options.size, width: options.size, channels, classes: 2 },
  };
  const dataset: Dataset = {
    name: options.name ?? basename(resolve(out)),
    height: options.size,
    width: options.size,
    channels,
    classes: 2,
    items,
    splits,
    annotators: scan.annotators,
    intensity,
    provenance: { createdBy: 'punet import', createdAt: new Date().toISOString(), options: { ...options, split: options.split ?? null }, report },
  };
  writeDataset(out, dataset, { overwrite: options.force });
  return { report, dataset };
}

function onScale(image: DeepRasterImage, maxValue: number): DeepRasterImage {
  if (image.maxValue === maxValue) return image;
  const factor = maxValue / image.maxValue; // 255 -> 65535: x257, exact
  return { ...image, data: Uint16Array.from(image.data, (v) => Math.round(v * factor)), maxValue };
}

function makeSplits(kept: { group: string; sourceSplit?: SplitName }[], options: ImportOptions): { splits: Record<SplitName, number[]>; splitMethod: string } {
  const fromSource = options.split === undefined && kept.every((k) => k.sourceSplit);
  if (fromSource) {
    const splits: Record<SplitName, number[]> = { train: [], val: [], test: [] };
    kept.forEach((k, i) => splits[k.sourceSplit!].push(i));
    // A group in two source splits would leak; say so rather than silently reshuffle.
    const where = new Map<string, Set<SplitName>>();
    for (const k of kept) where.set(k.group, (where.get(k.group) ?? new Set()).add(k.sourceSplit!));
    const leaking = [...where].filter(([, s]) => s.size > 1).map(([g]) => g);
    if (leaking.length) {
      throw new DataError(`the source's split folders put group(s) ${leaking.slice(0, 5).join(', ')} in more than one split; pass --split 0.7,0.15,0.15 to re-split by group`);
    }
    return { splits, splitMethod: 'kept from the source split folders' };
  }
  const fractions = options.split ?? DEFAULT_SPLIT_FRACTIONS;
  const splits = splitByGroup(
    kept.map((k) => k.group),
    { seed: options.seed, fractions },
  );
  const groups = new Set(kept.map((k) => k.group)).size;
  return { splits, splitMethod: `seeded group split (seed ${options.seed}, ${fractions.train}/${fractions.val}/${fractions.test}, ${groups} groups)` };
}

function countBy<T extends string>(values: T[]): Partial<Record<T, number>> & Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out as Partial<Record<T, number>> & Record<string, number>;
}

function summariseReasons(issues: ImportIssue[]): string {
  return Object.entries(countBy(issues.map((i) => i.kind)))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** The human-readable report `punet import` prints. */
export function formatReport(r: ImportReport): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${(label + ':').padEnd(16)} ${value}`);
  const counts = (c: Record<string, number>) =>
    Object.entries(c)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} x${n}`)
      .join(', ');
  lines.push(`punet import (${r.layout}): ${r.source}`);
  row('images found', String(r.imagesFound));
  row('annotators', `${r.annotators.length} (${r.annotators.join(', ')})`);
  for (const note of r.notes) row('note', note);
  row('source sizes', counts(r.sourceSizes));
  row('mask polarity', counts(r.polarity));
  row('crops', counts(r.crops));
  row('intensity', describeIntensity(r.intensity));
  row('items written', `${r.itemsWritten} of ${r.imagesFound}`);
  row('skipped', r.skipped.count === 0 ? '0' : `${r.skipped.count} (${counts(r.skipped.byReason as Record<string, number>)})`);
  for (const s of r.skipped.items) lines.push(`    - ${s.id}: ${s.reason}: ${s.message}`);
  row('splits', `train ${r.splits.train}, val ${r.splits.val}, test ${r.splits.test} (${r.splitMethod})`);
  row('output', `${r.output} (${r.shape.height}x${r.shape.width}x${r.shape.channels}, ${r.shape.classes} classes, ${r.annotators.length} annotations per item)`);
  return lines.join('\n');
}

/** "16-bit files (x47), values 112..3980 (12 bits used); window 0.5-99.5 % over the dataset: 140..3710 -> 0..1". */
export function describeIntensity(r: IntensityRecord): string {
  const depths = Object.entries(r.bitDepths).map(([d, n]) => `${d}-bit x${n}`).join(', ');
  const found = `${depths} files, values ${r.range[0]}..${r.range[1]} of 0..${r.maxValue} (${r.bitsUsed} bits used, mean ${r.mean}, std ${r.std})`;
  if (r.mode === 'none') return `${found}; full scale 0..${r.maxValue} -> 0..1`;
  const p = r.percentiles ? `${r.percentiles[0]}-${r.percentiles[1]} percentile window` : 'window';
  if (r.mode === 'dataset') return `${found}; ${p} over the dataset: ${r.window![0]}..${r.window![1]} -> 0..1 (clipped)`;
  return `${found}; ${p} per image (low ${r.perImageLow![0]}..${r.perImageLow![1]}, high ${r.perImageHigh![0]}..${r.perImageHigh![1]}) -> 0..1 (clipped)`;
}
