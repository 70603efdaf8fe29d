/**
 * Counter-based randomness: every random choice of a run is a pure function of
 * (run seed, stream, counters...). Nothing carries hidden state from one step to the next, so a
 * run resumed at step k draws exactly what an uninterrupted run draws at step k; the "RNG state"
 * a checkpoint needs is just the step.
 */

/** Independent streams; adding one never shifts the values of another. */
export const STREAM = {
  shuffle: 1,
  annotation: 2,
  latent: 3,
  validation: 4,
  evaluation: 5,
  sampling: 6,
} as const;

/** A 32-bit finaliser (murmur3 fmix32): full avalanche, cheap, exact in JS integer math. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a seed and any number of non-negative integer counters to a uint32. */
export function hash32(seed: number, ...counters: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const c of counters) {
    // Split counters above 2^32 (steps x batch can exceed it in long runs) into two words.
    const lo = c >>> 0;
    const hi = Math.floor(c / 4294967296) >>> 0;
    h = fmix32((h ^ lo) + 0x7f4a7c15);
    if (hi) h = fmix32((h ^ hi) + 0x6c8e9cf5);
  }
  return h;
}

/** A float in [0, 1) from the same inputs. */
export function uniform(seed: number, ...counters: number[]): number {
  return hash32(seed, ...counters) / 4294967296;
}

/** An integer in [0, n). */
export function randomInt(n: number, seed: number, ...counters: number[]): number {
  return Math.floor(uniform(seed, ...counters) * n);
}

/** A seed for a tf random op (tfjs seeds are plain numbers; keep them in 31 bits). */
export function tfSeed(seed: number, ...counters: number[]): number {
  return hash32(seed, ...counters) & 0x7fffffff;
}

/** A permutation of 0..n-1 (Fisher-Yates), a pure function of its inputs. */
export function permutation(n: number, seed: number, ...counters: number[]): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1, seed, ...counters, i);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
