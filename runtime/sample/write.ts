/**
 * Sample images on disk. Per image: the image, its annotations (if any), each sample, and the
 * per-pixel foreground frequency over the samples; plus `overview.png`, one row per image:
 * image | annotations | samples | frequency, separated by thin gaps.
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

/** Writes the PNGs; returns the files written (overview first). */
export function writeSampleImages(dir: string, images: SampledImage[], o: WriteSamplesOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const rows: RasterImage[][] = [];
  for (const item of images) {
    const safe = item.id.replace(/[^A-Za-z0-9._-]+/g, '_');
    const tiles: RasterImage[] = [];
    const put = (name: string, raster: RasterImage) => {
      const file = join(dir, `${safe}-${name}.png`);
      writePng(file, raster);
      files.push(file);
      tiles.push(toGray(raster));
    };
    put('image', imageRaster(item.image, o));
    item.annotations.forEach((m, k) => put(`annotation-${k}`, maskRaster(m, o)));
    item.samples.forEach((m, k) => put(`sample-${String(k).padStart(2, '0')}`, maskRaster(m, o)));
    put('frequency', frequencyRaster(foregroundFrequency(item.samples), o));
    rows.push(tiles);
  }
  if (rows.length) {
    const overview = join(dir, 'overview.png');
    writePng(overview, composeRows(rows, o.height, o.width));
    files.unshift(overview);
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

function toGray(r: RasterImage): RasterImage {
  if (r.channels === 1) return r;
  const data = new Uint8Array(r.width * r.height);
  for (let p = 0; p < data.length; p++) {
    const s = p * r.channels;
    data[p] = r.channels >= 3 ? Math.round((r.data[s]! + r.data[s + 1]! + r.data[s + 2]!) / 3) : r.data[s]!;
  }
  return { width: r.width, height: r.height, channels: 1, data };
}

/** Tiles rows of equally sized gray tiles with a 2-pixel mid-gray gap. */
function composeRows(rows: RasterImage[][], h: number, w: number): RasterImage {
  const gap = 2;
  const cols = Math.max(...rows.map((r) => r.length));
  const width = cols * w + (cols - 1) * gap;
  const height = rows.length * h + (rows.length - 1) * gap;
  const data = new Uint8Array(width * height).fill(96);
  rows.forEach((row, r) => {
    row.forEach((tile, c) => {
      for (let y = 0; y < h; y++) {
        const dst = (r * (h + gap) + y) * width + c * (w + gap);
        data.set(tile.data.subarray(y * w, (y + 1) * w), dst);
      }
    });
  });
  return { width, height, channels: 1, data };
}
