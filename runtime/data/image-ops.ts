/**
 * Small pure image operations for importing data: grayscale conversion, resizing (bilinear with
 * antialiasing for images, nearest for masks) and cropping. All work on 8- or 16-bit rasters
 * (channels interleaved; the result has the input's sample type and other fields) or on
 * single-channel planes (`Plane`), never on tensors.
 */
import type { Channels } from './png.js';

/** An 8-bit `RasterImage` or a 16-bit `DeepRasterImage`. */
interface AnyRaster {
  width: number;
  height: number;
  channels: Channels;
  data: Uint8Array | Uint16Array;
}

/** A new sample array of the same type (8- or 16-bit) as `like`. */
function samplesLike(like: Uint8Array | Uint16Array, length: number): Uint8Array | Uint16Array {
  return like instanceof Uint16Array ? new Uint16Array(length) : new Uint8Array(length);
}

/** One channel, row-major (masks, gray images). */
export interface Plane {
  width: number;
  height: number;
  data: Uint8Array;
}

/** ITU-R BT.601 luma; alpha is dropped (punet has no use for transparency). */
export function toGrayscale<T extends AnyRaster>(image: T): T {
  const { width, height, channels, data } = image;
  if (channels === 1) return image;
  const pixels = width * height;
  const out = samplesLike(data, pixels);
  for (let p = 0; p < pixels; p++) {
    const s = p * channels;
    // Integer BT.601 weights (299/587/114 per mille), rounded half up.
    out[p] = channels === 2 ? data[s] : ((299 * data[s] + 587 * data[s + 1] + 114 * data[s + 2] + 500) / 1000) | 0;
  }
  return { ...image, channels: 1, data: out };
}

/** Drops alpha and, when `channels` is 3, repeats gray into R, G and B. */
export function toChannels<T extends AnyRaster>(image: T, channels: 1 | 3): T {
  if (channels === 1) return toGrayscale(image);
  if (image.channels === 3) return image;
  const { width, height, data } = image;
  const inC = image.channels;
  const out = samplesLike(data, width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = inC >= 3 ? data[p * inC + c] : data[p * inC];
  }
  return { ...image, channels: 3, data: out };
}

/** A copy of the rectangle [x, x+w) x [y, y+h), which must lie inside the image. */
export function crop<T extends AnyRaster>(image: T, x: number, y: number, w: number, h: number): T {
  const { width, height, channels, data } = image;
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > width || y + h > height) {
    throw new RangeError(`crop ${w}x${h}+${x}+${y} is outside the ${width}x${height} image`);
  }
  const out = samplesLike(data, w * h * channels);
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * width + x) * channels;
    out.set(data.subarray(from, from + w * channels), row * w * channels);
  }
  return { ...image, width: w, height: h, data: out };
}

export function cropPlane(plane: Plane, x: number, y: number, w: number, h: number): Plane {
  const { width, height, data } = crop({ ...plane, channels: 1 as const }, x, y, w, h);
  return { width, height, data: data as Uint8Array };
}

/**
 * Bilinear resize with pixel centres at +0.5 (align_corners=false). When shrinking, the triangle
 * filter is widened by the scale factor (as PIL does) so every source pixel contributes:
 * plain bilinear sampling of an 800px image at 128px would alias badly.
 */
export function resizeBilinear<T extends AnyRaster>(image: T, outW: number, outH: number): T {
  const { width, height, channels } = image;
  if (width === outW && height === outH) return image;
  const horizontal = triangleWeights(width, outW);
  const vertical = triangleWeights(height, outH);
  // Separable: rows first into float, then columns.
  const tmp = new Float32Array(height * outW * channels);
  for (let y = 0; y < height; y++) {
    for (let ox = 0; ox < outW; ox++) {
      const { start, weights } = horizontal[ox];
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += weights[k] * image.data[(y * width + start + k) * channels + c];
        tmp[(y * outW + ox) * channels + c] = acc;
      }
    }
  }
  const out = samplesLike(image.data, outW * outH * channels);
  const max = image.data instanceof Uint16Array ? 65535 : 255;
  for (let oy = 0; oy < outH; oy++) {
    const { start, weights } = vertical[oy];
    for (let ox = 0; ox < outW; ox++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += weights[k] * tmp[((start + k) * outW + ox) * channels + c];
        out[(oy * outW + ox) * channels + c] = Math.min(max, Math.max(0, Math.round(acc)));
      }
    }
  }
  return { ...image, width: outW, height: outH, data: out };
}

interface Taps {
  start: number;
  weights: Float64Array;
}

/** For each output index: the first input index and normalised triangle-filter weights. */
export function triangleWeights(inSize: number, outSize: number): Taps[] {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // filter half-width in input pixels
  const taps: Taps[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale; // in input coordinates, pixel i spans [i, i+1)
    const first = Math.max(0, Math.floor(centre - support));
    const last = Math.min(inSize - 1, Math.ceil(centre + support));
    const raw: number[] = [];
    let sum = 0;
    for (let i = first; i <= last; i++) {
      const w = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / support);
      raw.push(w);
      sum += w;
    }
    if (sum === 0) {
      // Can only happen at an edge when upscaling: take the nearest pixel.
      taps.push({ start: Math.min(inSize - 1, Math.max(0, Math.floor(centre))), weights: Float64Array.of(1) });
      continue;
    }
    // Trim zero weights at both ends so loops stay tight.
    let a = 0;
    let b = raw.length - 1;
    while (raw[a] === 0) a++;
    while (raw[b] === 0) b--;
    taps.push({ start: first + a, weights: Float64Array.from(raw.slice(a, b + 1), (w) => w / sum) });
  }
  return taps;
}

/** Nearest-neighbour resize (masks: keeps class ids exact). Source index = floor((o + 0.5) * scale). */
export function resizeNearest(plane: Plane, outW: number, outH: number): Plane {
  const { width, height, data } = plane;
  if (width === outW && height === outH) return plane;
  const xs = Int32Array.from({ length: outW }, (_, o) => Math.min(width - 1, Math.floor((o + 0.5) * (width / outW))));
  const out = new Uint8Array(outW * outH);
  for (let oy = 0; oy < outH; oy++) {
    const sy = Math.min(height - 1, Math.floor((oy + 0.5) * (height / outH)));
    for (let ox = 0; ox < outW; ox++) out[oy * outW + ox] = data[sy * width + xs[ox]];
  }
  return { width: outW, height: outH, data: out };
}
