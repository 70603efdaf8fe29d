/**
 * The import's intensity window on generated 8- and 16-bit images: windows and stored values
 * equal to a sort-based nearest-rank percentile written here, and histogram memory that follows
 * the samples present, not the file's full scale times the number of images.
 */
import { describe, expect, it } from 'vitest';
import { intensityWindow, windowLikeImport } from '../../runtime/data/normalize.js';
import type { DeepRasterImage } from '../../runtime/data/png.js';
import { createRandom } from '../../runtime/data/synthetic.js';

const SIDE = 12;
const P: [number, number] = [2, 98];

/** Images whose samples spread over [lo, hi] (a different range per image), full scale maxValue. */
function images(count: number, maxValue: 255 | 65535, lo: number, hi: number, seed: number): DeepRasterImage[] {
  const rng = createRandom(seed);
  return Array.from({ length: count }, (_, k) => {
    const top = hi - k * Math.floor((hi - lo) / (2 * count));
    const samples = Array.from({ length: SIDE * SIDE }, () => lo + Math.floor(rng.next() * (top - lo + 1)));
    const data = maxValue === 255 ? Uint8Array.from(samples) : Uint16Array.from(samples);
    return { width: SIDE, height: SIDE, channels: 1, data, maxValue };
  });
}

/** Nearest-rank percentile by sorting (independent of the histogram in runtime/data/normalize.ts). */
function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Array.from(values).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

const windowed = (data: ArrayLike<number>, low: number, high: number) => Array.from(data, (v) => Math.fround(Math.min(1, Math.max(0, (v - low) / (high - low)))));

describe('import intensity window', () => {
  for (const [bits, maxValue, lo, hi] of [[8, 255, 20, 230], [16, 65535, 300, 3900]] as const) {
    it(`${bits}-bit: dataset and per-image windows equal sort-based percentiles`, () => {
      const imgs = images(5, maxValue, lo, hi, bits);
      const all = imgs.flatMap((i) => Array.from(i.data));

      const dataset = intensityWindow(imgs, imgs.map(() => bits), 'dataset', P);
      const window: [number, number] = [percentile(all, P[0]), percentile(all, P[1])];
      expect(dataset.record.window).toEqual(window);
      expect(dataset.record.range).toEqual([Math.min(...all), Math.max(...all)]);
      expect(dataset.record.bitsUsed).toBe(Math.ceil(Math.log2(Math.max(...all) + 1)));
      dataset.values.forEach((v, k) => expect(Array.from(v)).toEqual(windowed(imgs[k]!.data, ...window)));

      const perImage = intensityWindow(imgs, imgs.map(() => bits), 'image', P);
      const windows = imgs.map((i) => [percentile(i.data, P[0]), percentile(i.data, P[1])] as const);
      perImage.values.forEach((v, k) => expect(Array.from(v)).toEqual(windowed(imgs[k]!.data, ...windows[k]!)));
      expect(perImage.record.perImageLow).toEqual([Math.min(...windows.map((w) => w[0])), Math.max(...windows.map((w) => w[0]))]);
      expect(perImage.record.perImageHigh).toEqual([Math.min(...windows.map((w) => w[1])), Math.max(...windows.map((w) => w[1]))]);

      // a new image windowed like an import in mode image: its own percentiles
      const { values } = windowLikeImport(imgs[2]!, { ...perImage.record, percentiles: P });
      expect(Array.from(values)).toEqual(windowed(imgs[2]!.data, ...windows[2]!));
    });
  }

  it('allocates histogram bins for the samples present, independent of the number of images', () => {
    const imgs = images(200, 65535, 300, 3900, 3); // 12-bit data in 16-bit files
    const bins = countFloat64Elements(() => intensityWindow(imgs, imgs.map(() => 16), 'image', P));
    // pooled + one reused per-image histogram over 0..3900, plus small change; a full-scale
    // histogram per image would be 200 x 65536
    expect(bins).toBeLessThanOrEqual(2 * 3901 + 64);
  });
});

/** Float64Array elements constructed while `f` runs (counts `new Float64Array(n)` and copies). */
function countFloat64Elements(f: () => void): number {
  const Original = globalThis.Float64Array;
  let elements = 0;
  globalThis.Float64Array = new Proxy(Original, {
    construct(target, args: unknown[]) {
      const made = Reflect.construct(target, args) as Float64Array;
      elements += made.length;
      return made;
    },
  });
  try {
    f();
  } finally {
    globalThis.Float64Array = Original;
  }
  return elements;
}
