/**
 * PNG reading and writing on top of pngjs (no hand-written codec). Everything punet handles is
 * 8 bits per channel: 16-bit (and 1/2/4-bit) files are rescaled to 0..255 on read.
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

export interface DecodedPng extends RasterImage {
  /** Bit depth stored in the file (1, 2, 4, 8 or 16); `data` is always 8-bit. */
  bitDepth: number;
}

/** pngjs colour types and the channel count each one keeps. */
const PNG_COLOR_TYPE: Record<Channels, 0 | 2 | 4 | 6> = { 1: 0, 2: 4, 3: 2, 4: 6 };

export interface ReadOptions {
  /** Return one gray channel (BT.601 luma of colour files, alpha dropped) in a single pass: masks. */
  grayscale?: boolean;
}

/** Reads a PNG file; a missing or corrupt file is a DataError naming it. */
export function readPng(path: string, options: ReadOptions = {}): DecodedPng {
  return decodePng(readRegularFile(path), path, options);
}

/** Decodes PNG bytes; `nameForErrors` is the file name used in error messages. */
export function decodePng(buffer: Uint8Array, nameForErrors: string, options: ReadOptions = {}): DecodedPng {
  checkPngHeader(buffer, nameForErrors);
  let decoded: ReturnType<typeof PNG.sync.read> & { colorType?: number; depth?: number; color?: boolean; alpha?: boolean; palette?: boolean };
  try {
    decoded = PNG.sync.read(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  } catch (err) {
    throw new DataError(`${nameForErrors} is not a readable PNG (${(err as Error).message}); re-export it or remove it`, nameForErrors);
  }
  // pngjs's sync parser returns nothing usable (rather than throwing) on some truncations.
  if (!decoded || !decoded.data || decoded.width <= 0 || decoded.height <= 0 || decoded.data.length < decoded.width * decoded.height * 4) {
    throw new DataError(`${nameForErrors} is not a readable PNG (truncated or empty image data); re-export it or remove it`, nameForErrors);
  }
  const { width, height } = decoded;
  const rgba = decoded.data as Uint8Array;
  if (options.grayscale) return { width, height, channels: 1, bitDepth: decoded.depth ?? 8, data: lumaFromRgba(rgba, width * height, Boolean(decoded.color)) };
  const hasAlpha = Boolean(decoded.alpha);
  let color = Boolean(decoded.color);
  // A palette PNG whose colours are all gray is a grayscale image for our purposes (common for masks).
  if (decoded.palette && isAllGray(rgba)) color = false;
  const channels = ((color ? 3 : 1) + (hasAlpha ? 1 : 0)) as Channels;
  return { width, height, channels, bitDepth: decoded.depth ?? 8, data: fromRgba(rgba, width * height, channels) };
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

function isAllGray(rgba: Uint8Array): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  }
  return true;
}

/** pngjs always hands back RGBA; keep only the channels the file really has. */
function fromRgba(rgba: Uint8Array, pixels: number, channels: Channels): Uint8Array {
  if (channels === 4) return Uint8Array.from(rgba.subarray(0, pixels * 4));
  const out = new Uint8Array(pixels * channels);
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
