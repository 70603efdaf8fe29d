/**
 * Evaluation metrics for distributions over segmentations, on plain data (no tensors), per image.
 *
 * Conventions (LIDC; see the reference notes on Prob. U-Net evaluation):
 * - d(a, b) = 1 - IoU of the foreground pixels; both masks empty -> d = 0, exactly one empty -> 1.
 *   Foreground = every non-zero class id unless `foreground: k` picks one class.
 * - GED^2 is the V-statistic with the diagonal pairs included.
 * - Inputs are arrays of equally sized masks: `Uint8Array` of class ids, flat number arrays, or
 *   nested `number[][]` rows. Unequal sizes throw an Error naming the two masks and their sizes.
 */
import { minCostAssignment } from './hungarian.js';
import {
  foregroundBits,
  iouOfBits,
  isForeground,
  normalizeMaskSets,
  type Foreground,
  type MaskInput,
} from './masks.js';

export type DistanceFn = (a: Uint8Array, b: Uint8Array) => number;

export interface DistanceOptions {
  /** Which pixels are foreground for the built-in IoU distance: 'any' non-zero class (default) or one class id. */
  foreground?: Foreground;
  /** A custom d(a, b) on flat class-id masks, replacing 1 - IoU (assumed symmetric, d(a, a) = 0). */
  distance?: DistanceFn;
}

/** Pairwise distances between two mask lists, using bitset IoU unless a custom distance is given. */
function distanceMatrix(a: Uint8Array[], b: Uint8Array[], opts: DistanceOptions): number[][] {
  if (opts.distance) {
    const d = opts.distance;
    return a.map((x) => b.map((y) => checkedDistance(d(x, y))));
  }
  const fg = opts.foreground ?? 'any';
  const bitsA = a.map((m) => foregroundBits(m, fg));
  const bitsB = a === b ? bitsA : b.map((m) => foregroundBits(m, fg));
  return bitsA.map((x) => bitsB.map((y) => 1 - iouOfBits(x, y)));
}

function checkedDistance(value: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new Error(`custom distance returned ${String(value)}; a distance must be a number >= 0`);
  }
  return value;
}

function meanOf(matrix: number[][], skipDiagonal = false): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < matrix.length; i++) {
    const row = matrix[i]!;
    for (let j = 0; j < row.length; j++) {
      if (skipDiagonal && i === j) continue;
      sum += row[j]!;
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}

// ---------------------------------------------------------------------------------------------
// GED

export interface GedComponents {
  /** GED^2 = 2 * cross - samples - annotations. */
  ged: number;
  /** (1 / NM) sum_ij d(s_i, y_j). */
  cross: number;
  /** (1 / N^2) sum_ij d(s_i, s_j), diagonal included. */
  samples: number;
  /** (1 / M^2) sum_ij d(y_i, y_j), diagonal included. */
  annotations: number;
}

/** GED^2 with its three expectation terms. */
export function gedComponents(samples: readonly MaskInput[], annotations: readonly MaskInput[], opts: DistanceOptions = {}): GedComponents {
  const [s, y] = normalizeMaskSets('ged', [
    { name: 'sample', masks: samples },
    { name: 'annotation', masks: annotations },
  ]) as [Uint8Array[], Uint8Array[]];
  const cross = meanOf(distanceMatrix(s, y, opts));
  const withinSamples = meanOf(distanceMatrix(s, s, opts));
  const withinAnnotations = meanOf(distanceMatrix(y, y, opts));
  return { ged: 2 * cross - withinSamples - withinAnnotations, cross, samples: withinSamples, annotations: withinAnnotations };
}

/**
 * Per-image squared generalised energy distance, V-statistic (diagonal pairs included):
 * (2/(N M)) sum d(s_i, y_j) - (1/N^2) sum d(s_i, s_j) - (1/M^2) sum d(y_i, y_j).
 */
export function ged(samples: readonly MaskInput[], annotations: readonly MaskInput[], opts: DistanceOptions = {}): number {
  return gedComponents(samples, annotations, opts).ged;
}

// ---------------------------------------------------------------------------------------------
// Hungarian-matched IoU

export interface HungarianOptions {
  foreground?: Foreground;
  /** Largest tiled matrix side accepted (lcm of N and M); beyond it the call throws. Default 2048. */
  maxTiledSize?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Hungarian-matched IoU: the N samples and M annotations are tiled to L = lcm(N, M) each
 * (sample i appears L/N times, annotation j L/M times), matched one-to-one minimising the total
 * 1 - IoU, and the matched IoUs averaged. When N is a multiple of M (the usual case) L = N and
 * this is exactly "tile the annotations up to N samples"; otherwise the lcm tiling weighs every
 * sample and every annotation equally (it equals optimal transport between the two uniform
 * distributions), instead of truncation, which would silently drop annotations.
 * Both-empty pairs have IoU 1.
 */
export function hungarianIoU(samples: readonly MaskInput[], annotations: readonly MaskInput[], opts: HungarianOptions = {}): number {
  const [s, y] = normalizeMaskSets('hungarianIoU', [
    { name: 'sample', masks: samples },
    { name: 'annotation', masks: annotations },
  ]) as [Uint8Array[], Uint8Array[]];
  const n = s.length;
  const m = y.length;
  const tiled = (n / gcd(n, m)) * m;
  const maxTiled = opts.maxTiledSize ?? 2048;
  if (tiled > maxTiled) {
    throw new Error(
      `hungarianIoU: ${n} samples and ${m} annotations tile to lcm = ${tiled} > ${maxTiled}; ` +
        `use a sample count that is a multiple of ${m}`,
    );
  }
  const distances = distanceMatrix(s, y, { foreground: opts.foreground });
  const cost: number[][] = [];
  for (let r = 0; r < tiled; r++) {
    const row = distances[r % n]!;
    const tiledRow = new Array<number>(tiled);
    for (let c = 0; c < tiled; c++) tiledRow[c] = row[c % m]!;
    cost.push(tiledRow);
  }
  const { cost: totalDistance } = minCostAssignment(cost);
  return 1 - totalDistance / tiled;
}

// ---------------------------------------------------------------------------------------------
// Sample diversity

/**
 * Mean pairwise distance between distinct samples, (1/(N(N-1))) sum_{i != j} d(s_i, s_j): the
 * diagonal (always 0) is excluded. NaN with a single sample (no pairs): callers skip NaN.
 */
export function sampleDiversity(samples: readonly MaskInput[], opts: DistanceOptions = {}): number {
  const [s] = normalizeMaskSets('sampleDiversity', [{ name: 'sample', masks: samples }]) as [Uint8Array[]];
  return meanOf(distanceMatrix(s, s, opts), true);
}

// ---------------------------------------------------------------------------------------------
// S_NCC (PHiSeg)

export interface NccOptions {
  foreground?: Foreground;
  /**
   * Soft predictions: the foreground probability per pixel for each sample (same order as
   * `samples`). Without them the hard samples are used as 0/1 probabilities.
   */
  probabilities?: readonly ArrayLike<number>[];
  /** Added inside the logarithms, as in PHiSeg. Default 1e-8. */
  eps?: number;
}

export interface NccDetails {
  /** Mean of the defined per-annotation NCCs; NaN when none is defined. */
  value: number;
  /** NCC(E_ss, E_sy_j) per annotation j; NaN where undefined. */
  perAnnotation: number[];
  /** Why some or all terms are undefined (a constant map has no correlation), else undefined. */
  note?: string;
}

/** Pearson correlation; NaN when either map is constant (zero variance). */
function normalizedCrossCorrelation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  // Relative test: CE maps of hard masks hold values like 18.42 and -1e-8, so "constant" must
  // allow for rounding rather than demand exact zeros.
  const tiny = (x: number, mean: number) => x <= 1e-20 * n * (1 + mean * mean);
  if (tiny(varA, meanA) || tiny(varB, meanB)) return NaN;
  return cov / Math.sqrt(varA * varB);
}

/**
 * S_NCC with its per-annotation terms. With s_i the samples' foreground probabilities and
 * s_bar their mean, per pixel:
 *   E_ss = mean_i CE(s_bar, s_i)        (the model's own expected cross-entropy: its uncertainty)
 *   E_sy_j = mean_i CE(y_j, s_i)        (expected cross-entropy against annotation j)
 * S_NCC = mean_j NCC(E_ss, E_sy_j), NCC = Pearson correlation over pixels.
 *
 * NaN guard: a constant map has no correlation. When E_ss is constant (e.g. all samples
 * identical, a collapsed model) the value is NaN; a constant E_sy_j makes that term NaN and it is
 * left out of the mean. Never throws for degenerate data; `note` says what happened.
 */
export function nccDetails(samples: readonly MaskInput[], annotations: readonly MaskInput[], opts: NccOptions = {}): NccDetails {
  const [s, y] = normalizeMaskSets('ncc', [
    { name: 'sample', masks: samples },
    { name: 'annotation', masks: annotations },
  ]) as [Uint8Array[], Uint8Array[]];
  const fg = opts.foreground ?? 'any';
  const eps = opts.eps ?? 1e-8;
  const pixels = s[0]!.length;
  const sampleProbs = sampleProbabilities(s, pixels, fg, opts.probabilities);

  // CE is linear in its target, so with A = mean_i log(s_i + eps) and B = mean_i log(1 - s_i + eps)
  // per pixel: E_ss = -(s_bar A + (1 - s_bar) B) and E_sy_j = -(y_j A + (1 - y_j) B).
  // 2 N logarithms per pixel instead of N (M + 1).
  const n = sampleProbs.length;
  const meanProb = new Float64Array(pixels);
  const meanLogFg = new Float64Array(pixels);
  const meanLogBg = new Float64Array(pixels);
  for (const p of sampleProbs) {
    for (let k = 0; k < pixels; k++) {
      meanProb[k]! += p[k]! / n;
      meanLogFg[k]! += Math.log(p[k]! + eps) / n;
      meanLogBg[k]! += Math.log(1 - p[k]! + eps) / n;
    }
  }
  const expectedCE = (target: (k: number) => number) => {
    const map = new Float64Array(pixels);
    for (let k = 0; k < pixels; k++) {
      const t = target(k);
      map[k] = -(t * meanLogFg[k]! + (1 - t) * meanLogBg[k]!);
    }
    return map;
  };
  const eSS = expectedCE((k) => meanProb[k]!);
  const perAnnotation = y.map((annotation) =>
    normalizedCrossCorrelation(eSS, expectedCE((k) => (isForeground(annotation[k]!, fg) ? 1 : 0))),
  );

  const defined = perAnnotation.filter((v) => !Number.isNaN(v));
  const value = defined.length === 0 ? NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
  let note: string | undefined;
  if (defined.length === 0) note = 'undefined: the expected cross-entropy maps are constant (e.g. identical samples)';
  else if (defined.length < perAnnotation.length) {
    note = `${perAnnotation.length - defined.length} of ${perAnnotation.length} annotations left out (constant E_sy map)`;
  }
  return { value, perAnnotation, ...(note ? { note } : {}) };
}

/** S_NCC (PHiSeg), NaN when undefined; see `nccDetails`. */
export function ncc(samples: readonly MaskInput[], annotations: readonly MaskInput[], opts: NccOptions = {}): number {
  return nccDetails(samples, annotations, opts).value;
}

function sampleProbabilities(
  samples: Uint8Array[],
  pixels: number,
  fg: Foreground,
  probabilities: NccOptions['probabilities'],
): Float64Array[] {
  if (!probabilities) {
    return samples.map((mask) => Float64Array.from(mask, (c) => (isForeground(c, fg) ? 1 : 0)));
  }
  if (probabilities.length !== samples.length) {
    throw new Error(`ncc: got ${probabilities.length} probability maps for ${samples.length} samples`);
  }
  return probabilities.map((p, i) => {
    if (p.length !== pixels) {
      throw new Error(`ncc: probability map ${i} has ${p.length} pixels but the masks have ${pixels}`);
    }
    const out = new Float64Array(pixels);
    for (let k = 0; k < pixels; k++) {
      const v = p[k]!;
      if (!(v >= 0 && v <= 1)) throw new Error(`ncc: probability map ${i} pixel ${k} is ${v}, expected a value in [0, 1]`);
      out[k] = v;
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Mode frequencies (data with a known distribution over segmentations)

export interface TrueMode {
  mask: MaskInput;
  probability: number;
  label?: string;
}

export interface ModeOptions extends DistanceOptions {
  /**
   * A sample is assigned to its nearest mode (smallest d, ties to the earlier mode) only if that
   * distance is <= threshold; otherwise it goes to the 'other' bucket, which has true
   * probability 0. Default 0.5 (IoU >= 0.5 with the nearest mode).
   */
  threshold?: number;
}

export const DEFAULT_MODE_THRESHOLD = 0.5;

export interface ModeFrequencies {
  /** Per sample: index of its mode, or -1 for 'other'. */
  assignment: number[];
  /** Fraction of samples per mode (same order as `modes`). */
  frequencies: number[];
  /** Fraction of samples near no mode. */
  other: number;
}

/** Assigns each sample to its nearest true mode (or 'other') and counts frequencies. */
export function modeFrequencies(samples: readonly MaskInput[], modes: readonly TrueMode[], opts: ModeOptions = {}): ModeFrequencies {
  checkModeProbabilities(modes);
  const [s, modeMasks] = normalizeMaskSets('modeFrequencies', [
    { name: 'sample', masks: samples },
    { name: 'mode mask', masks: modes.map((m) => m.mask) },
  ]) as [Uint8Array[], Uint8Array[]];
  const threshold = opts.threshold ?? DEFAULT_MODE_THRESHOLD;
  const distances = distanceMatrix(s, modeMasks, opts);
  const counts = new Array<number>(modes.length).fill(0);
  let other = 0;
  const assignment = distances.map((row) => {
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! < row[best]!) best = k;
    if (row[best]! > threshold) {
      other++;
      return -1;
    }
    counts[best]!++;
    return best;
  });
  return { assignment, frequencies: counts.map((c) => c / s.length), other: other / s.length };
}

function checkModeProbabilities(modes: readonly TrueMode[]): void {
  if (modes.length === 0) throw new Error('modeFrequencies: needs at least one true mode');
  let total = 0;
  modes.forEach((m, i) => {
    if (!(m.probability >= 0 && m.probability <= 1)) {
      throw new Error(`modeFrequencies: mode ${i} has probability ${m.probability}, expected a value in [0, 1]`);
    }
    total += m.probability;
  });
  if (Math.abs(total - 1) > 1e-6) throw new Error(`modeFrequencies: mode probabilities sum to ${total}, expected 1`);
}

/**
 * Total-variation distance between the samples' mode frequencies and the true mode
 * probabilities: 0.5 * (sum_k |f_k - p_k| + f_other). 0 = frequencies match, 1 = disjoint.
 * With N samples even a perfect sampler scores above 0; `perfectSamplerTV` gives that floor.
 */
export function modeFrequencyTV(samples: readonly MaskInput[], modes: readonly TrueMode[], opts: ModeOptions = {}): number {
  const { frequencies, other } = modeFrequencies(samples, modes, opts);
  let sum = other;
  modes.forEach((m, k) => (sum += Math.abs(frequencies[k]! - m.probability)));
  return sum / 2;
}

/**
 * Expected TV of an exact sampler drawing n samples from `probabilities`: each mode count is
 * Binomial(n, p_k), and TV is a sum over modes, so E[TV] = 0.5 * sum_k E|X_k/n - p_k| exactly.
 */
export function perfectSamplerTV(probabilities: readonly number[], n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`perfectSamplerTV: n must be a positive integer, got ${n}`);
  let total = 0;
  for (const p of probabilities) {
    if (p <= 0 || p >= 1) continue; // a certain or impossible mode is always matched exactly
    let logPmf = n * Math.log1p(-p);
    const logOdds = Math.log(p) - Math.log1p(-p);
    for (let k = 0; k <= n; k++) {
      total += Math.exp(logPmf) * Math.abs(k / n - p);
      logPmf += Math.log(n - k) - Math.log(k + 1) + logOdds;
    }
  }
  return total / 2;
}
