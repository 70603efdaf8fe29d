/**
 * Sample images on disk. Per image: the image, its annotations (if any), each sample, and the
 * per-pixel foreground frequency over the samples. The composite figure (one row per image) is
 * runtime/figures' sample grid.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePng, type Channels, type RasterImage } from '../data/png.js';
import { foregroundFrequency } from './sampler.js';

export interface SampledImage {
  id: string;
  /** H*W*C values in [0, 1]. */
  image: Float32Array;
  annotations: Uint8Array[];
  samples: Uint8Array[];
}

export interface WriteSamplesOptions {
  height: number;
  width: number;
  channels: number;
  classes: number;
}

/** Writes the PNGs; returns the files written. */
export function writeSampleImages(dir: string, images: SampledImage[], o: WriteSamplesOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const item of images) {
    const safe = item.id.replace(/[^A-Za-z0-9._-]+/g, '_');
    const put = (name: string, raster: RasterImage) => {
      const file = join(dir, `${safe}-${name}.png`);
      writePng(file, raster);
      files.push(file);
    };
    put('image', imageRaster(item.image, o));
    item.annotations.forEach((m, k) => put(`annotation-${k}`, maskRaster(m, o)));
    item.samples.forEach((m, k) => put(`sample-${String(k).padStart(2, '0')}`, maskRaster(m, o)));
    put('frequency', frequencyRaster(foregroundFrequency(item.samples), o));
  }
  return files;
}

function imageRaster(image: Float32Array, o: WriteSamplesOptions): RasterImage {
  // 2-channel images are shown by their first channel; 1, 3 and 4 channels as they are.
  const channels = (o.channels === 2 ? 1 : Math.min(o.channels, 4)) as Channels;
  const pixels = o.height * o.width;
  const data = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = to8bit(image[p * o.channels + c]!);
  }
  return { width: o.width, height: o.height, channels, data };
}

/** Class ids spread over 0..255 (binary: background black, foreground white). */
function maskRaster(mask: Uint8Array, o: WriteSamplesOptions): RasterImage {
  const scale = 255 / Math.max(1, o.classes - 1);
  return { width: o.width, height: o.height, channels: 1, data: Uint8Array.from(mask, (v) => Math.round(v * scale)) };
}

function frequencyRaster(freq: Float32Array, o: WriteSamplesOptions): RasterImage {
  return { width: o.width, height: o.height, channels: 1, data: Uint8Array.from(freq, to8bit) };
}

function to8bit(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}
