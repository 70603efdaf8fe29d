/**
 * Per-pixel summaries of a set of sampled segmentations (plain data, no tensors): how often a
 * pixel is foreground, how uncertain the samples are about it (entropy), and how much the soft
 * predictions vary (std).
 */

function checkSameLength(arrays: ArrayLike<number>[], what: string): number {
  if (!arrays.length) throw new RangeError(`${what}: need at least one map`);
  const n = arrays[0]!.length;
  for (const a of arrays) if (a.length !== n) throw new RangeError(`${what}: maps differ in size (${n} vs ${a.length})`);
  return n;
}

/** Fraction of masks in which each pixel is foreground (any class but 0). */
export function foregroundFrequency(masks: Uint8Array[]): Float32Array {
  const n = checkSameLength(masks, 'foregroundFrequency');
  const out = new Float32Array(n);
  for (const m of masks) for (let p = 0; p < n; p++) if (m[p]) out[p]! += 1;
  for (let p = 0; p < n; p++) out[p]! /= masks.length;
  return out;
}

/** Per class, the fraction of masks giving each pixel that class: `classes` maps of H*W. */
export function classFrequencies(masks: Uint8Array[], classes: number): Float32Array[] {
  const n = checkSameLength(masks, 'classFrequencies');
  const out = Array.from({ length: classes }, () => new Float32Array(n));
  for (const m of masks) {
    for (let p = 0; p < n; p++) {
      const k = m[p]!;
      if (k >= classes) throw new RangeError(`classFrequencies: class id ${k} at pixel ${p}, but only ${classes} classes`);
      out[k]![p]! += 1;
    }
  }
  for (const f of out) for (let p = 0; p < n; p++) f[p]! /= masks.length;
  return out;
}

/**
 * Entropy in bits of the per-pixel class distribution of the samples: -sum_k f_k log2 f_k with
 * f_k the class frequencies. Binary masks give the binary entropy of the foreground frequency.
 * Ranges over [0, log2(classes)].
 */
export function entropyMap(masks: Uint8Array[], classes: number): Float32Array {
  const freqs = classFrequencies(masks, Math.max(2, classes));
  const n = freqs[0]!.length;
  const out = new Float32Array(n);
  for (const f of freqs) {
    for (let p = 0; p < n; p++) {
      const q = f[p]!;
      if (q > 0) out[p]! -= q * Math.log2(q);
    }
  }
  return out;
}

/** Per-pixel mean of equally sized maps (e.g. soft foreground probabilities of the samples). */
export function meanMap(maps: ArrayLike<number>[]): Float32Array {
  const n = checkSameLength(maps, 'meanMap');
  const out = new Float32Array(n);
  for (const m of maps) for (let p = 0; p < n; p++) out[p]! += m[p]!;
  for (let p = 0; p < n; p++) out[p]! /= maps.length;
  return out;
}

/** Per-pixel population standard deviation over maps (divides by the count, not count - 1). */
export function stdMap(maps: ArrayLike<number>[]): Float32Array {
  const mean = meanMap(maps);
  const out = new Float32Array(mean.length);
  for (const m of maps) {
    for (let p = 0; p < mean.length; p++) {
      const d = m[p]! - mean[p]!;
      out[p]! += d * d;
    }
  }
  for (let p = 0; p < out.length; p++) out[p] = Math.sqrt(out[p]! / maps.length);
  return out;
}

/** The foreground indicator (1 where class != 0) of a mask, as numbers. */
export function foregroundIndicator(mask: Uint8Array): Float32Array {
  return Float32Array.from(mask, (k) => (k ? 1 : 0));
}
