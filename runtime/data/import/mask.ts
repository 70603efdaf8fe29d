/**
 * Turning annotators' mask images into 0/1 foreground masks. Real masks come as 0/255, 0/1,
 * RGB, palette or 1-bit PNGs, with white OR black meaning foreground (BU-BIL draws cells black).
 */
import type { RasterImage } from '../png.js';
import { toGrayscale } from '../image-ops.js';
import type { Polarity } from './options.js';
import { ImportIssue } from './issues.js';

export type PolarityRule = 'border' | 'minority' | 'white' | 'black' | 'single value';

export interface BinaryMask {
  width: number;
  height: number;
  /** 1 = foreground, 0 = background. */
  data: Uint8Array;
  /** The source grey value taken as foreground (null: the mask had one value, all background). */
  foregroundValue: number | null;
  rule: PolarityRule;
}

export interface BinarizeOptions {
  polarity: Polarity;
  /** Grey level: >= threshold is the high level. Unset: the mask must have at most two values. */
  threshold?: number;
}

export function binarizeMask(raster: RasterImage, file: string, itemId: string, options: BinarizeOptions): BinaryMask {
  const gray = toGrayscale(raster).data;
  const { width, height } = raster;
  let levels: Uint8Array;
  let lo: number;
  let hi: number | null;
  if (options.threshold !== undefined) {
    const t = options.threshold;
    levels = new Uint8Array(gray.length);
    let highs = 0;
    for (let i = 0; i < gray.length; i++) highs += levels[i] = gray[i] >= t ? 1 : 0;
    const hasHigh = highs > 0;
    const hasLow = highs < gray.length;
    // Report levels by representative values so the polarity rules read the same.
    lo = hasLow ? 0 : 255;
    hi = hasLow && hasHigh ? 255 : null;
  } else {
    const counts = new Uint32Array(256);
    for (let i = 0; i < gray.length; i++) counts[gray[i]]++;
    const values = [...counts.keys()].filter((v) => counts[v] > 0);
    if (values.length > 2) {
      const sorted = [...values].sort((a, b) => counts[b] - counts[a]);
      const strays = sorted.slice(2).sort((a, b) => a - b);
      const shown = strays.slice(0, 5).map((v) => `${counts[v]} pixel${counts[v] === 1 ? '' : 's'} of value ${v}`).join(', ');
      throw new ImportIssue(
        'non-binary mask',
        itemId,
        `${file} is not a binary mask: ${values.length} distinct values (${values.slice(0, 8).join(', ')}${values.length > 8 ? ', ...' : ''}); besides ${sorted[0]} and ${sorted[1]} it has ${shown}${strays.length > 5 ? ', ...' : ''}. Fix the mask or pass --threshold 128 to binarise grey values`,
        file,
      );
    }
    lo = values[0];
    hi = values.length === 2 ? values[1] : null;
    levels = new Uint8Array(gray.length);
    if (hi !== null) for (let i = 0; i < gray.length; i++) levels[i] = gray[i] === hi ? 1 : 0;
  }

  // Decide which level is foreground.
  let foregroundLevel: 0 | 1 | null;
  let rule: PolarityRule;
  if (hi === null) {
    // One value everywhere: an empty annotation, unless polarity says that value is foreground.
    const value = lo;
    const isFg = (options.polarity === 'white' && value >= 128) || (options.polarity === 'black' && value < 128);
    foregroundLevel = isFg ? (levels[0] as 0 | 1) : null;
    rule = 'single value';
  } else if (options.polarity === 'white') {
    foregroundLevel = 1;
    rule = 'white';
  } else if (options.polarity === 'black') {
    foregroundLevel = 0;
    rule = 'black';
  } else {
    const border = borderHighFraction(levels, width, height);
    if (border !== 0.5) {
      foregroundLevel = border > 0.5 ? 0 : 1; // the border's majority level is background
      rule = 'border';
    } else {
      let highs = 0;
      for (let i = 0; i < levels.length; i++) highs += levels[i];
      foregroundLevel = highs <= levels.length - highs ? 1 : 0; // minority is foreground
      rule = 'minority';
    }
  }
  let data = levels;
  if (foregroundLevel === null) data = new Uint8Array(levels.length);
  else if (foregroundLevel === 0) for (let i = 0; i < data.length; i++) data[i] = 1 - data[i];
  const foregroundValue = foregroundLevel === null ? null : foregroundLevel === 1 ? (hi ?? lo) : lo;
  return { width, height, data, foregroundValue, rule };
}

/** Fraction of the outermost ring of pixels that is at the high level. */
function borderHighFraction(levels: Uint8Array, width: number, height: number): number {
  let high = 0;
  let total = 0;
  const visit = (x: number, y: number) => {
    high += levels[y * width + x];
    total++;
  };
  for (let x = 0; x < width; x++) {
    visit(x, 0);
    if (height > 1) visit(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    visit(0, y);
    if (width > 1) visit(width - 1, y);
  }
  return high / total;
}
