/**
 * A resource budget checked before anything is allocated: from the resolved spec alone (no
 * compile, no tensors) estimate the parameters, the activation memory of one training step and
 * the dataset's memory, and refuse a spec whose estimate exceeds a limit (by default half of the
 * machine's memory; PUNET_MEMORY_LIMIT or `check --memory-limit` set another).
 *
 * The estimate is deliberately simple and errs low: every block with `widths` is counted as a
 * chain of 3x3 convolutions (`convs_per_block` per level, resolution halved per level), the U-Net
 * twice (encoder and decoder), float32 everywhere, activations kept for the backward pass plus
 * their gradients. It exists to stop sizes that cannot possibly fit, with a number the user can
 * act on, not to predict peak memory.
 */
import { statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../compiler/errors.js';
import type { KindSpec, ResolvedSpec } from './types.js';

export interface ResourceEstimate {
  parameters: number;
  /** Bytes: weights, Adam's two slots and the gradients. */
  parameterBytes: number;
  /** Bytes of activations (and their gradients) for one training step of `batch_size` images. */
  activationBytes: number;
  /**
   * Bytes of the loaded dataset: from `count` for generated data, from the files' sizes for an
   * imported `dataset` (needs the spec's folder); 0 where neither is known (png-folder).
   */
  datasetBytes: number;
  total: number;
}

const FLOAT = 4;
/** Weights + gradient + two Adam slots. */
const COPIES_PER_PARAMETER = 4;
/** Forward activation kept for the backward pass and its gradient. */
const COPIES_PER_ACTIVATION = 2;
/** Annotations per image assumed when the data source does not say (LIDC has four). */
const ANNOTATIONS = 4;

export function estimateResources(spec: ResolvedSpec, specDir?: string): ResourceEstimate {
  const [height, width] = spec.input.size;
  const { channels, classes } = spec.input;
  const batch = spec.train.batch_size;
  const pixels = height * width;
  let parameters = 0;
  let activationsPerImage = pixels * (channels + classes); // the input and one-hot mask
  const blocks: Array<[KindSpec | undefined, number, number]> = [
    [spec.unet, channels, 2],
    [spec.prior, channels, 1],
    [spec.posterior, channels + classes, 1],
  ];
  for (const [block, inChannels, passes] of blocks) {
    const widths = numbers(block?.widths);
    if (!widths.length) continue;
    const convs = positive(block?.convs_per_block, 2);
    let prev = inChannels;
    widths.forEach((w, level) => {
      parameters += passes * 9 * (prev * w + (convs - 1) * w * w); // first conv prev->w, the rest w->w
      activationsPerImage += passes * convs * w * (pixels / 4 ** level);
      prev = w;
    });
  }
  const combiner = spec.combiner;
  if (combiner) {
    const w = positive(combiner.width, 0);
    const layers = positive(combiner.layers, 0);
    const firstWidth = numbers(spec.unet?.widths)[0] ?? w;
    parameters += layers * (firstWidth + w) * w;
    activationsPerImage += layers * w * pixels;
  }
  const parameterBytes = parameters * FLOAT * COPIES_PER_PARAMETER;
  const activationBytes = batch * activationsPerImage * FLOAT * COPIES_PER_ACTIVATION;
  const count = positive(spec.train.data?.count, 0);
  const datasetBytes = count * pixels * (channels + ANNOTATIONS) + importedDatasetBytes(spec.train.data, specDir);
  return { parameters, parameterBytes, activationBytes, datasetBytes, total: parameterBytes + activationBytes + datasetBytes };
}

/**
 * An imported dataset's memory once loaded, from its files' sizes (nothing is read): images widen
 * from 16-bit samples to float32 (2x), masks and modes stay bytes. Missing files count 0; the
 * loader reports them.
 */
function importedDatasetBytes(data: KindSpec | undefined, specDir: string | undefined): number {
  if (data?.kind !== 'dataset' || typeof data.path !== 'string' || specDir === undefined) return 0;
  const dir = isAbsolute(data.path) ? data.path : resolve(specDir, data.path);
  const size = (name: string) => {
    try {
      return statSync(join(dir, name)).size;
    } catch {
      return 0;
    }
  };
  return 2 * size('images.bin') + size('masks.bin') + size('modes.bin');
}

/** Bytes punet may plan to use: PUNET_MEMORY_LIMIT (e.g. 8G, 512M, or bytes), else half the machine's memory. */
export function memoryLimit(fromFlag?: string): { bytes: number; source: string } {
  const text = fromFlag ?? process.env.PUNET_MEMORY_LIMIT;
  if (text !== undefined && text !== '') {
    const bytes = parseSize(text);
    const source = fromFlag !== undefined ? '--memory-limit' : 'PUNET_MEMORY_LIMIT';
    if (bytes === undefined) throw new UserError(`${source} must be a size such as 8G, 512M or a number of bytes, got '${text}'`, 2);
    return { bytes, source };
  }
  return { bytes: totalmem() / 2, source: 'half of this machine\'s memory' };
}

/** What to shrink: the data when it is most of the estimate, else the model. */
function fix(estimate: ResourceEstimate): string {
  return estimate.datasetBytes > estimate.total / 2
    ? 'use fewer or smaller images (train.data)'
    : 'reduce input.size, train.batch_size or the block widths';
}

/** The reason a spec does not fit `limit`, or undefined when it does. */
export function overBudget(estimate: ResourceEstimate, limit: { bytes: number; source: string }): string | undefined {
  if (estimate.total <= limit.bytes) return undefined;
  return (
    `the spec needs about ${formatBytes(estimate.total)} (${estimate.parameters.toExponential(2)} parameters: ${formatBytes(estimate.parameterBytes)} ` +
    `with gradients and optimizer state; activations of one training step: ${formatBytes(estimate.activationBytes)}; dataset: ${formatBytes(estimate.datasetBytes)}), ` +
    `more than the limit of ${formatBytes(limit.bytes)} (${limit.source}); ${fix(estimate)}, or raise the limit with PUNET_MEMORY_LIMIT`
  );
}

/** Refuses (UserError) a spec over the limit. */
export function checkBudget(estimate: ResourceEstimate, limit: { bytes: number; source: string }): void {
  const problem = overBudget(estimate, limit);
  if (problem) throw new UserError(problem);
}

export function formatBytes(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(1)} ${unit}`;
  return `${Math.round(n)} B`;
}

function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Number(m[1]) * scale;
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0) : [];
}

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
