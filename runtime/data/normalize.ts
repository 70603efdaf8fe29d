/**
 * Image intensities, in two steps:
 *
 * 1. Import (`intensityWindow`): raw source samples (8- or 16-bit integers) become values in
 *    [0, 1] through a window [low, high] (clipped): a percentile window over the whole dataset,
 *    per image, or the full scale of the file (`none`: v / 255 or v / 65535). 12-bit data in
 *    16-bit files therefore spans [0, 1] instead of [0, 0.06]. What was found and used is
 *    recorded in dataset.json (`intensity`).
 * 2. Model input (`normalizeImages`): the spec's `input.normalize`, applied to every image the
 *    model sees (training, validation, evaluation, sampling, export) by this one function.
 */
import type { Dataset } from './types.js';
import type { DeepRasterImage } from './png.js';
import type { IntensityRecord, IntensityWindowMode } from '../../compiler/dataset.js';

/** What import found and did (`IntensityRecord`) is part of the dataset type, next to the plugin API. */
export type { IntensityRecord, IntensityWindowMode } from '../../compiler/dataset.js';

// ----------------------------------------------------------------------------------------------
// Import: raw samples -> [0, 1]

export const INTENSITY_WINDOW_MODES: readonly IntensityWindowMode[] = ['dataset', 'image', 'none'];
export const DEFAULT_PERCENTILES: [number, number] = [0.5, 99.5];

/**
 * Histogram of integer samples 0..top (exact percentiles without sorting millions of values),
 * added into `into` when given. `top` is the largest sample present, so the bins follow the bits
 * actually used (4096 for 12-bit data in 16-bit files), not the file's full scale.
 */
export function histogram(data: ArrayLike<number>, top: number, into = new Float64Array(top + 1)): Float64Array {
  for (let i = 0; i < data.length; i++) into[data[i]!]! += 1;
  return into;
}

/** The largest sample of `data` (0 when empty). */
export function largestSample(data: ArrayLike<number>): number {
  let top = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > top) top = data[i]!;
  return top;
}

/** The value below which `p` percent of the histogram's samples lie (nearest rank). */
export function histogramPercentile(hist: Float64Array, p: number): number {
  let total = 0;
  for (let v = 0; v < hist.length; v++) total += hist[v]!;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (let v = 0; v < hist.length; v++) {
    seen += hist[v]!;
    if (seen >= rank) return v;
  }
  return hist.length - 1;
}

/** Raw samples to [0, 1] with the window [low, high], clipped; a flat window maps to 0. */
export function applyWindow(data: ArrayLike<number>, low: number, high: number): Float32Array {
  const span = high > low ? high - low : 1;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.min(1, Math.max(0, (data[i]! - low) / span));
  return out;
}

function windowOf(hist: Float64Array, percentiles: [number, number]): [number, number] {
  return [histogramPercentile(hist, percentiles[0]), histogramPercentile(hist, percentiles[1])];
}

/**
 * Maps every image of an import to [0, 1] and says how. All images must share `maxValue` (the
 * caller converts 8-bit images to the 16-bit scale when a dataset mixes depths).
 */
export function intensityWindow(
  images: DeepRasterImage[],
  bitDepths: number[],
  mode: IntensityWindowMode,
  percentiles: [number, number] = DEFAULT_PERCENTILES,
): { values: Float32Array[]; record: IntensityRecord } {
  const maxValue = Math.max(...images.map((i) => i.maxValue));
  // Memory: two histograms over the samples present (pooled, and one per-image buffer reused),
  // whatever the number of images.
  const top = images.reduce((t, img) => Math.max(t, largestSample(img.data)), 0);
  const pooled = new Float64Array(top + 1);
  for (const img of images) histogram(img.data, top, pooled);
  const range: [number, number] = [histogramPercentile(pooled, 0), histogramPercentile(pooled, 100)];
  let count = 0;
  let sum = 0;
  let sq = 0;
  for (let v = 0; v <= top; v++) {
    count += pooled[v]!;
    sum += v * pooled[v]!;
    sq += v * v * pooled[v]!;
  }
  const mean = count ? sum / count : 0;
  const base = {
    bitDepths: Object.fromEntries(Object.entries(countBy(bitDepths.map(String)))),
    maxValue,
    range,
    bitsUsed: Math.max(1, Math.ceil(Math.log2(range[1] + 1))),
    mean: Number(mean.toFixed(3)),
    std: Number(Math.sqrt(Math.max(0, count ? sq / count - mean * mean : 0)).toFixed(3)),
    mode,
  };
  if (mode === 'none') {
    return { values: images.map((img) => applyWindow(img.data, 0, maxValue)), record: { ...base, window: [0, maxValue] } };
  }
  if (mode === 'dataset') {
    const window = windowOf(pooled, percentiles);
    return { values: images.map((img) => applyWindow(img.data, window[0], window[1])), record: { ...base, percentiles, window } };
  }
  const own = new Float64Array(top + 1);
  const windows = images.map((img) => windowOf(histogram(img.data, top, own.fill(0)), percentiles));
  const spread = (k: 0 | 1): [number, number] => [Math.min(...windows.map((w) => w[k])), Math.max(...windows.map((w) => w[k]))];
  return {
    values: images.map((img, i) => applyWindow(img.data, windows[i]![0], windows[i]![1])),
    record: { ...base, percentiles, perImageLow: spread(0), perImageHigh: spread(1) },
  };
}

/** The same mapping for one new image (`sample --image`), as import recorded it. */
export function windowLikeImport(image: DeepRasterImage, record: IntensityRecord | undefined): { values: Float32Array; how: string } {
  const scale = record ? record.maxValue / image.maxValue : 1;
  const data = scale === 1 ? image.data : Float64Array.from(image.data, (v) => v * scale);
  if (!record || record.mode === 'none') {
    const max = record?.maxValue ?? image.maxValue;
    return { values: applyWindow(data, 0, max), how: `full scale 0..${max}` };
  }
  if (record.mode === 'dataset' && record.window) {
    const [low, high] = record.window;
    return { values: applyWindow(data, low, high), how: `the dataset's window ${low}..${high}` };
  }
  const percentiles = record.percentiles ?? DEFAULT_PERCENTILES;
  const samples = Uint32Array.from(data, Math.round);
  const [low, high] = windowOf(histogram(samples, largestSample(samples)), percentiles);
  return { values: applyWindow(data, low, high), how: `its own ${percentiles[0]}-${percentiles[1]} percentile window ${low}..${high}` };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

// ----------------------------------------------------------------------------------------------
// Model input: the spec's input.normalize

/**
 * - none: the stored values in [0, 1] (the default; built-in data is unchanged);
 * - dataset: (x - mean) / std per channel, mean and std over the training split's pixels;
 * - percentile: per image and channel, the 0.5-99.5 percentile window mapped to [0, 1], clipped;
 * - z-score: per image and channel, (x - mean) / std.
 */
export type NormalizeMode = 'none' | 'dataset' | 'percentile' | 'z-score';
export const NORMALIZE_MODES: readonly NormalizeMode[] = ['none', 'dataset', 'percentile', 'z-score'];

/** Per-channel mean and std of the training split (mode dataset). */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

const MIN_STD = 1e-6;

export function trainingStats(dataset: Dataset): ChannelStats {
  const C = dataset.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  let pixels = 0;
  for (const index of dataset.splits.train) {
    const image = dataset.items[index]!.image;
    for (let i = 0; i < image.length; i++) {
      sum[i % C]! += image[i]!;
      sq[i % C]! += image[i]! * image[i]!;
    }
    pixels += image.length / C;
  }
  const mean = Array.from(sum, (s) => (pixels ? s / pixels : 0));
  const std = Array.from(sq, (s, c) => Math.max(MIN_STD, Math.sqrt(pixels ? Math.max(0, s / pixels - mean[c]! ** 2) : 1)));
  return { mean, std };
}

/**
 * One image (H*W*C, channels last) as the model sees it. `stats` is needed for mode dataset
 * (from `trainingStats` of the run's data).
 */
export function normalizeImage(image: Float32Array, channels: number, mode: NormalizeMode, stats?: ChannelStats): Float32Array {
  if (mode === 'none') return image;
  const out = new Float32Array(image.length);
  for (let c = 0; c < channels; c++) {
    let a: number; // out = (x - a) / b
    let b: number;
    if (mode === 'dataset') {
      if (!stats) throw new Error('normalizeImage: mode dataset needs the training statistics');
      a = stats.mean[c]!;
      b = stats.std[c]!;
    } else {
      const values: number[] = [];
      for (let i = c; i < image.length; i += channels) values.push(image[i]!);
      if (mode === 'z-score') {
        a = values.reduce((s, v) => s + v, 0) / values.length;
        b = Math.max(MIN_STD, Math.sqrt(values.reduce((s, v) => s + (v - a) ** 2, 0) / values.length));
      } else {
        values.sort((x, y) => x - y);
        a = rankValue(values, DEFAULT_PERCENTILES[0]);
        b = Math.max(MIN_STD, rankValue(values, DEFAULT_PERCENTILES[1]) - a);
      }
    }
    for (let i = c; i < image.length; i += channels) {
      const v = (image[i]! - a) / b;
      out[i] = mode === 'percentile' ? Math.min(1, Math.max(0, v)) : v;
    }
  }
  return out;
}

/** Nearest-rank percentile of ascending values (the same rule as histogramPercentile). */
function rankValue(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * The dataset as the model sees it: every item's image through `normalizeImage` (a new Dataset;
 * the loaded one is not changed). Records the mode and statistics in the provenance.
 */
export function normalizeDataset(dataset: Dataset, mode: NormalizeMode | undefined, stats?: ChannelStats): Dataset {
  if (!mode || mode === 'none') return dataset;
  const used = mode === 'dataset' ? (stats ?? trainingStats(dataset)) : undefined;
  return {
    ...dataset,
    items: dataset.items.map((item) => ({ ...item, image: normalizeImage(item.image, dataset.channels, mode, used) })),
    provenance: { ...dataset.provenance, normalize: { mode, ...(used ? { stats: used } : {}) } },
  };
}
