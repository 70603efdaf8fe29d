/**
 * A tiny RGB drawing surface for figures: filled rectangles, nearest-neighbour blits of small
 * images, pixels and circles. Plain typed arrays, no tensors, no fonts from the system.
 */
import type { RasterImage } from '../data/png.js';

export type Rgb = readonly [number, number, number];

/** An 8-bit RGB image, row-major: what every figure function returns (and writePng accepts). */
export interface RgbImage extends RasterImage {
  channels: 3;
}

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

export function createCanvas(width: number, height: number, background: Rgb = WHITE): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`figure size must be positive integers, got ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = background[0];
    data[i + 1] = background[1];
    data[i + 2] = background[2];
  }
  return { width, height, channels: 3, data };
}

/** Sets one pixel; pixels outside the canvas are ignored (clipping, so callers need not check). */
export function setPixel(c: RgbImage, x: number, y: number, color: Rgb): void {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  const i = (y * c.width + x) * 3;
  c.data[i] = color[0];
  c.data[i + 1] = color[1];
  c.data[i + 2] = color[2];
}

export function getPixel(c: RgbImage, x: number, y: number): Rgb {
  const i = (y * c.width + x) * 3;
  return [c.data[i]!, c.data[i + 1]!, c.data[i + 2]!];
}

export function fillRect(c: RgbImage, x: number, y: number, w: number, h: number, color: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(c.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(c.width, x + w); xx++) setPixel(c, xx, yy, color);
  }
}

/**
 * Draws a small image (RGB, `width` x `height`) at (x, y), each source pixel as a `scale` x
 * `scale` block: nearest neighbour, so 32x32 masks stay crisp.
 */
export function blitScaled(c: RgbImage, tile: RgbImage, x: number, y: number, scale: number): void {
  for (let ty = 0; ty < tile.height; ty++) {
    for (let tx = 0; tx < tile.width; tx++) {
      const s = (ty * tile.width + tx) * 3;
      const color: Rgb = [tile.data[s]!, tile.data[s + 1]!, tile.data[s + 2]!];
      fillRect(c, x + tx * scale, y + ty * scale, scale, scale, color);
    }
  }
}

/**
 * An axis-aligned ellipse outline with radii (rx, ry) around (cx, cy) (real-valued; pixel
 * centres at +0.5): every pixel whose centre lies within thickness/2 pixels of the curve
 * (measured along the normalised radius), clipped to `clip` if given. rx = ry draws a circle.
 */
export function strokeEllipse(
  c: RgbImage,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  thickness: number,
  color: Rgb,
  clip?: { x: number; y: number; width: number; height: number },
): void {
  const x0 = Math.max(clip?.x ?? 0, Math.floor(cx - rx - thickness));
  const x1 = Math.min(clip ? clip.x + clip.width : c.width, Math.ceil(cx + rx + thickness));
  const y0 = Math.max(clip?.y ?? 0, Math.floor(cy - ry - thickness));
  const y1 = Math.min(clip ? clip.y + clip.height : c.height, Math.ceil(cy + ry + thickness));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      const rho = Math.hypot(dx / rx, dy / ry); // 1 on the curve
      const radiusHere = rho > 0 ? Math.hypot(dx, dy) / rho : Math.min(rx, ry); // the curve's radius in this direction
      if (Math.abs(rho - 1) * radiusHere <= thickness / 2) setPixel(c, x, y, color);
    }
  }
}
