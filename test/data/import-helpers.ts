/** Builders for small source trees in each import layout (PNG files written with our encoder). */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { encodePng } from '../../runtime/data/png.js';
import type { ImportOptions } from '../../runtime/data/import/options.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `punet-${prefix}-`));
}

/** Writes a 1-channel PNG whose pixel (x, y) is f(x, y). */
export function grayPng(path: string, width: number, height: number, f: (x: number, y: number) => number): void {
  mkdirSync(dirname(path), { recursive: true });
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  writeFileSync(path, encodePng({ width, height, channels: 1, data }));
}

export function rgbPng(path: string, width: number, height: number, f: (x: number, y: number) => [number, number, number]): void {
  mkdirSync(dirname(path), { recursive: true });
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(f(x, y), (y * width + x) * 3);
  writeFileSync(path, encodePng({ width, height, channels: 3, data }));
}

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
export const inRect = (r: Rect, x: number, y: number) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;

/** A mask PNG with `rect` as foreground; fg/bg grey values chosen by the caller (BU-BIL: 0 on 255). */
export function rectMask(path: string, width: number, height: number, rect: Rect | null, fg: number, bg: number): void {
  grayPng(path, width, height, (x, y) => (rect && inRect(rect, x, y) ? fg : bg));
}

/** 0/1 mask of `rect` in a width x height frame, as an array for comparisons. */
export function expectedMask(width: number, height: number, rect: Rect | null): number[] {
  return Array.from({ length: width * height }, (_, i) => (rect && inRect(rect, i % width, Math.floor(i / width)) ? 1 : 0));
}

export function options(overrides: Partial<ImportOptions> = {}): ImportOptions {
  return {
    layout: 'folders',
    size: 8,
    polarity: 'auto',
    crop: 'none',
    margin: 0,
    grayscale: false,
    // Full scale: these tests check crop and resize on raw 8-bit values (windows: import-intensity.test.ts).
    intensity: 'none',
    percentiles: [0.5, 99.5],
    strict: false,
    seed: 0,
    force: false,
    ...overrides,
  };
}

/** Writes a 16-bit 1-channel PNG whose pixel (x, y) is f(x, y) (0..65535), e.g. 12-bit microscopy. */
export function gray16Png(path: string, width: number, height: number, f: (x: number, y: number) => number): void {
  mkdirSync(dirname(path), { recursive: true });
  const samples = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) samples[y * width + x] = f(x, y);
  const png = { width, height, data: Buffer.from(samples.buffer) } as unknown as PNG;
  writeFileSync(path, PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}
