/**
 * Host-side references for the quality benchmark, computed from the data's known distribution
 * over segmentations (built-in data only): an exact sampler (draws the true modes with their
 * probabilities), the best single guess (the most probable mode, repeated), and per-structure
 * marginals (how often a sampler includes each shape compared with its true probability).
 */
import type { DataItem, Mode } from '../runtime/data/types.js';
import { createRandom, PROBABILITY_TIERS } from '../runtime/data/synthetic.js';
import { perfectSamplerTV } from '../runtime/eval/metrics.js';
import { hash32 } from '../runtime/train/rng.js';

/** n masks drawn from the true modes; `seed` and `index` (the image) are hashed into the stream. */
export function exactSamples(modes: readonly Mode[], n: number, seed: number, index: number): Uint8Array[] {
  // Hashed: mulberry32 streams of consecutive raw seeds start out correlated.
  const rng = createRandom(hash32(seed, index));
  const out: Uint8Array[] = [];
  for (let s = 0; s < n; s++) {
    const u = rng.next();
    let cumulative = 0;
    let pick = modes.length - 1;
    for (let k = 0; k < modes.length; k++) {
      cumulative += modes[k]!.probability;
      if (u < cumulative) {
        pick = k;
        break;
      }
    }
    out.push(modes[pick]!.mask);
  }
  return out;
}

/** The most probable mode, n times: the best a deterministic predictor can do by mode count. */
export function mostProbableMode(modes: readonly Mode[], n: number): Uint8Array[] {
  const best = modes.reduce((a, b) => (b.probability > a.probability ? b : a));
  return Array.from({ length: n }, () => best.mask);
}

/** Mean expected TV of an exact sampler with n samples: the floor of the mode-TV metric. */
export function modeTvFloor(items: readonly DataItem[], n: number): number {
  const values = items.map((it) => perfectSamplerTV(it.modes!.map((m) => m.probability), n));
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

export interface Structure {
  /** Pixel indices of one connected foreground component of the modes' union. */
  pixels: number[];
  /** True probability that a segmentation contains it: sum of the modes that cover it. */
  probability: number;
}

/**
 * The separate structures (shapes) of an item: 8-connected components of the union of all mode
 * masks. The generator keeps shapes apart, so a component is one shape; its true marginal is
 * the total probability of the modes whose mask covers most of it.
 */
export function structuresOf(modes: readonly Mode[], width: number): Structure[] {
  const pixels = modes[0]!.mask.length;
  const union = new Uint8Array(pixels);
  for (const m of modes) for (let p = 0; p < pixels; p++) if (m.mask[p]) union[p] = 1;
  const label = new Int32Array(pixels).fill(-1);
  const components: number[][] = [];
  for (let start = 0; start < pixels; start++) {
    if (!union[start] || label[start]! >= 0) continue;
    const members: number[] = [];
    const stack = [start];
    label[start] = components.length;
    while (stack.length) {
      const p = stack.pop()!;
      members.push(p);
      const x = p % width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const q = p + dy * width + dx;
          if ((dx || dy) && nx >= 0 && nx < width && q >= 0 && q < pixels && union[q] && label[q]! < 0) {
            label[q] = components.length;
            stack.push(q);
          }
        }
      }
    }
    components.push(members);
  }
  return components.map((members) => ({
    pixels: members,
    probability: modes.reduce((sum, m) => sum + (covers(m.mask, members) ? m.probability : 0), 0),
  }));
}

/** A mask "contains" a structure when it labels at least half of its pixels foreground. */
export function covers(mask: Uint8Array, pixels: readonly number[]): boolean {
  let on = 0;
  for (const p of pixels) if (mask[p]) on++;
  return on * 2 >= pixels.length;
}

export interface MarginalBin {
  /** The generator's probability tier nearest to the structures' true inclusion probability. */
  probability: number;
  /** Mean true inclusion probability in the bin (tiers shift slightly when rare modes are dropped). */
  truth: number;
  structures: number;
  /** Mean fraction of samples that contain a structure of this bin. */
  predicted: number;
}

const nearestTier = (p: number) => PROBABILITY_TIERS.reduce((a, b) => (Math.abs(b - p) < Math.abs(a - p) ? b : a));

/** Predicted vs true inclusion frequency of every structure, grouped by probability tier. */
export function marginalCalibration(
  items: readonly DataItem[],
  samples: readonly Uint8Array[][],
  width: number,
): MarginalBin[] {
  const bins = new Map<number, { structures: number; truth: number; predicted: number }>();
  items.forEach((item, k) => {
    for (const s of structuresOf(item.modes!, width)) {
      const key = nearestTier(s.probability);
      const frequency = samples[k]!.filter((mask) => covers(mask, s.pixels)).length / samples[k]!.length;
      const bin = bins.get(key) ?? { structures: 0, truth: 0, predicted: 0 };
      bin.structures++;
      bin.truth += s.probability;
      bin.predicted += frequency;
      bins.set(key, bin);
    }
  });
  return [...bins]
    .map(([probability, b]) => ({ probability, structures: b.structures, truth: b.truth / b.structures, predicted: b.predicted / b.structures }))
    .sort((a, b) => b.probability - a.probability);
}
