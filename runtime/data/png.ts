/**
 * PNG reading and writing on top of pngjs (no hand-written codec). By default everything is 8 bits
 * per channel: 16-bit (and 1/2/4-bit) files are rescaled to 0..255 on read. Image readers that
 * must keep the precision of 16-bit files (import, `sample --image`) ask for `highDepth`: they get
 * the raw 16-bit samples (12-bit microscopy data stays 0..4095 instead of landing in 0..16).
 */
import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { PNG } from 'pngjs';
import { DataError } from './errors.js';
import { checkPngHeader, readRegularFile } from './file-guard.js';

export type Channels = 1 | 2 | 3 | 4;

/** An 8-bit image, row-major, channels interleaved (gray, gray+alpha, RGB or RGBA). */
export interface RasterImage {
  width: number;
  height: number;
  channels: Channels;
  /** width * height * channels bytes. */
  data: Uint8Array;
}

/** A raster with 8- or 16-bit samples: `maxValue` is 255 or 65535 (the full scale of `data`). */
export interface DeepRasterImage {
  width: number;
  height: number;
  channels: Channels;
  data: Uint8Array | Uint16Array;
  maxValue: number;
}

export interface DecodedPng extends RasterImage {
  /** Bit depth stored in the file (1, 2, 4, 8 or 16); `data` is always 8-bit. */
  bitDepth: number;
}

export interface DecodedDeepPng extends DeepRasterImage {
  /** Bit depth stored in the file; 16 gives Uint16Array samples, everything else 8-bit. */
  bitDepth: number;
}

/** pngjs colour types and the channel count each one keeps. */
const PNG_COLOR_TYPE: Record<Channels, 0 | 2 | 4 | 6> = { 1: 0, 2: 4, 3: 2, 4: 6 };

export interface ReadOptions {
  /** Return one gray channel (BT.601 luma of colour files, alpha dropped) in a single pass: masks. */
  grayscale?: boolean;
  /** Keep 16-bit samples (Uint16Array, maxValue 65535) instead of rescaling them to 8 bits. */
  highDepth?: boolean;
}

/** Reads a PNG file; a missing or corrupt file is a DataError naming it. */
export function readPng(path: string, options?: ReadOptions & { highDepth?: false }): DecodedPng;
export function readPng(path: string, options: ReadOptions & { highDepth: true }): DecodedDeepPng;
export function readPng(path: string, options: ReadOptions = {}): DecodedPng | DecodedDeepPng {
  return decodePng(readRegularFile(path), path, options as ReadOptions & { highDepth: true });
}

/** Offset of the bit-depth byte: 8-byte signature, IHDR length and type, width, height. */
const IHDR_DEPTH_OFFSET = 24;

/** Decodes PNG bytes; `nameForErrors` is the file name used in error messages. */
export function decodePng(buffer: Uint8Array, nameForErrors: string, options?: ReadOptions & { highDepth?: false }): DecodedPng;
export function decodePng(buffer: Uint8Array, nameForErrors: string, options: ReadOptions & { highDepth: true }): DecodedDeepPng;
export function decodePng(buffer: Uint8Array, nameForErrors: string, options: ReadOptions = {}): DecodedPng | DecodedDeepPng {
  checkPngHeader(buffer, nameForErrors);
  let decoded: ReturnType<typeof PNG.sync.read> & { colorType?: number; depth?: number; color?: boolean; alpha?: boolean; palette?: boolean };
  // pngjs only skips its 8-bit rescale for every depth at once; we want it for 16-bit files only.
  const keep16 = Boolean(options.highDepth) && !options.grayscale && buffer[IHDR_DEPTH_OFFSET] === 16;
  try {
    decoded = PNG.sync.read(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength), { skipRescale: keep16 } as Parameters<typeof PNG.sync.read>[1]);
  } catch (err) {
    throw new DataError(`${nameForErrors} is not a readable PNG (${(err as Error).message}); re-export it or remove it`, nameForErrors);
  }
  // pngjs's sync parser returns nothing usable (rather than throwing) on some truncations.
  if (!decoded || !decoded.data || decoded.width <= 0 || decoded.height <= 0 || decoded.data.length < decoded.width * decoded.height * 4) {
    throw new DataError(`${nameForErrors} is not a readable PNG (truncated or empty image data); re-export it or remove it`, nameForErrors);
  }
  const { width, height } = decoded;
  const bitDepth = decoded.depth ?? 8;
  if (options.grayscale) return { width, height, channels: 1, bitDepth, data: lumaFromRgba(decoded.data as Uint8Array, width * height, Boolean(decoded.color)) };
  const rgba = decoded.data as unknown as Uint8Array | Uint16Array;
  const hasAlpha = Boolean(decoded.alpha);
  let color = Boolean(decoded.color);
  // A palette PNG whose colours are all gray is a grayscale image for our purposes (common for masks).
  if (decoded.palette && isAllGray(rgba)) color = false;
  const channels = ((color ? 3 : 1) + (hasAlpha ? 1 : 0)) as Channels;
  const data = fromRgba(rgba, width * height, channels);
  if (options.highDepth) return { width, height, channels, bitDepth, data, maxValue: keep16 ? 65535 : 255 };
  return { width, height, channels, bitDepth, data: data as Uint8Array };
}

/** Same integer BT.601 weights as image-ops toGrayscale, so both paths agree. */
function lumaFromRgba(rgba: Uint8Array, pixels: number, color: boolean): Uint8Array {
  const out = new Uint8Array(pixels);
  if (!color) {
    for (let p = 0; p < pixels; p++) out[p] = rgba[p * 4];
    return out;
  }
  for (let p = 0; p < pixels; p++) {
    const s = p * 4;
    out[p] = ((299 * rgba[s] + 587 * rgba[s + 1] + 114 * rgba[s + 2] + 500) / 1000) | 0;
  }
  return out;
}

function isAllGray(rgba: Uint8Array | Uint16Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/** pngjs always hands back RGBA (8- or 16-bit); keep only the channels the file really has. */
function fromRgba<T extends Uint8Array | Uint16Array>(rgba: T, pixels: number, channels: Channels): T {
  // (Buffer#slice would share memory with pngjs's buffer; copy instead.)
  if (channels === 4) return (rgba instanceof Uint16Array ? rgba.slice(0, pixels * 4) : Uint8Array.from(rgba.subarray(0, pixels * 4))) as T;
  const out = (rgba instanceof Uint16Array ? new Uint16Array(pixels * channels) : new Uint8Array(pixels * channels)) as T;
  for (let p = 0; p < pixels; p++) {
    const s = p * 4;
    const d = p * channels;
    if (channels === 1) out[d] = rgba[s];
    else if (channels === 2) {
      out[d] = rgba[s];
      out[d + 1] = rgba[s + 3];
    } else {
      out[d] = rgba[s];
      out[d + 1] = rgba[s + 1];
      out[d + 2] = rgba[s + 2];
    }
  }
  return out;
}

/** Encodes an 8-bit image as PNG bytes, keeping its channel count (gray stays 1-channel gray). */
export function encodePng(image: RasterImage): Buffer {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: bad size ${width}x${height}`);
  }
  if (!(channels in PNG_COLOR_TYPE)) throw new RangeError(`encodePng: channels must be 1-4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`encodePng: ${width}x${height}x${channels} needs ${width * height * channels} bytes, got ${data.length}`);
  }
  const colorType = PNG_COLOR_TYPE[channels];
  const png = { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } as unknown as PNG;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 2 || channels === 4, bitDepth: 8 });
}

/** Writes a PNG atomically: a temp file next to the target, then a rename. */
export function writePng(path: string, image: RasterImage): void {
  const bytes = encodePng(image);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
