/**
 * One panel of a figure at the data's own resolution (H x W RGB): the input image, a mask
 * (overlaid on the image or on black), or a scalar map through a colour map. Figures upscale
 * these with nearest-neighbour blits.
 */
import { createCanvas, type Rgb, type RgbImage } from './canvas.js';
import { classColor, viridis } from './colormap.js';

export interface TileShape {
  height: number;
  width: number;
  /** Channels of the input image (1 = gray, 3 = RGB; others show their first channel). */
  channels: number;
}

export type MaskStyle = 'overlay' | 'binary';

function to8bit(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}

/** The input image, values in [0, 1], channels last: gray for 1 channel, colour for 3 or more. */
export function imageTile(image: Float32Array, s: TileShape): RgbImage {
  const pixels = s.height * s.width;
  if (image.length !== pixels * s.channels) {
    throw new RangeError(`image has ${image.length} values, expected ${s.height}x${s.width}x${s.channels} = ${pixels * s.channels}`);
  }
  const tile = createCanvas(s.width, s.height);
  for (let p = 0; p < pixels; p++) {
    const base = p * s.channels;
    const rgb = s.channels >= 3 ? [image[base]!, image[base + 1]!, image[base + 2]!] : [image[base]!, image[base]!, image[base]!];
    for (let c = 0; c < 3; c++) tile.data[p * 3 + c] = to8bit(rgb[c]!);
  }
  return tile;
}

/**
 * A mask as a picture. 'overlay': class colours blended (alpha) over the image, background
 * pixels show the image. 'binary': background black, a binary mask's foreground white, other
 * classes in their palette colour.
 */
export function maskTile(
  mask: Uint8Array,
  s: TileShape & { classes: number },
  style: MaskStyle,
  image?: Float32Array,
  alpha = 0.55,
): RgbImage {
  const pixels = s.height * s.width;
  if (mask.length !== pixels) throw new RangeError(`mask has ${mask.length} values, expected ${s.height}x${s.width} = ${pixels}`);
  const base = style === 'overlay' && image ? imageTile(image, s) : createCanvas(s.width, s.height, [0, 0, 0]);
  const binaryWhite = style === 'binary' && s.classes <= 2;
  for (let p = 0; p < pixels; p++) {
    const k = mask[p]!;
    if (!k) continue;
    const color: Rgb = binaryWhite ? [255, 255, 255] : classColor(k);
    const a = style === 'overlay' && image ? alpha : 1;
    for (let c = 0; c < 3; c++) base.data[p * 3 + c] = Math.round((1 - a) * base.data[p * 3 + c]! + a * color[c]!);
  }
  return base;
}

/** A scalar map through viridis over [min, max]. */
export function heatTile(values: ArrayLike<number>, s: { height: number; width: number }, min: number, max: number): RgbImage {
  const pixels = s.height * s.width;
  if (values.length !== pixels) throw new RangeError(`map has ${values.length} values, expected ${s.height}x${s.width} = ${pixels}`);
  const tile = createCanvas(s.width, s.height);
  for (let p = 0; p < pixels; p++) {
    const color = viridis(values[p]!, min, max);
    tile.data.set(color, p * 3);
  }
  return tile;
}

/** Display window of an input image: its 1st to 99th percentile (over all channels) mapped to [0, 1]. */
export const DISPLAY_PERCENTILES: [number, number] = [1, 99];

/**
 * The image contrast-stretched for display: dim microscopy (or z-scored input) would otherwise
 * show black. A flat image is shown as it is.
 */
export function displayStretch(image: Float32Array): Float32Array {
  const sorted = Float32Array.from(image).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))]!;
  const low = at(DISPLAY_PERCENTILES[0]);
  const high = at(DISPLAY_PERCENTILES[1]);
  if (!(high - low > 1e-6)) return image;
  return Float32Array.from(image, (v) => Math.min(1, Math.max(0, (v - low) / (high - low))));
}
