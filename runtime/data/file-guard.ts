/**
 * Limits on what data files may cost before they are decoded: only regular files are read (a
 * FIFO would hang, /dev/zero would never end), their size is bounded, and a PNG's declared
 * dimensions are checked against a pixel limit before pngjs allocates width*height*4 bytes.
 * Limits can be raised through PUNET_MAX_FILE_BYTES and PUNET_MAX_IMAGE_PIXELS.
 */
import { readFileSync, statSync } from 'node:fs';
import { DataError } from './errors.js';

/** 1 GiB: the largest single data file read into memory (a LIDC pickle is about 0.5 GiB). */
const DEFAULT_MAX_FILE_BYTES = 2 ** 30;
/** 64 Mpixel (8192 x 8192): pngjs decodes to RGBA, 256 MiB at this size. */
const DEFAULT_MAX_IMAGE_PIXELS = 2 ** 26;

export function maxFileBytes(): number {
  return envLimit('PUNET_MAX_FILE_BYTES', DEFAULT_MAX_FILE_BYTES);
}

export function maxImagePixels(): number {
  return envLimit('PUNET_MAX_IMAGE_PIXELS', DEFAULT_MAX_IMAGE_PIXELS);
}

/** Reads `path` when it is a regular file (symlinks followed) of at most `limit` bytes; a DataError otherwise. */
export function readRegularFile(path: string, limit = maxFileBytes()): Buffer {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw new DataError(`${path} is a folder where a file was expected`, path);
    if (!stat.isFile()) throw new DataError(`${path} is not a regular file (a device, FIFO or socket); replace it with the real file`, path);
    size = stat.size;
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);
  }
  if (size > limit) throw new DataError(`${path} is ${size} bytes, more than the limit of ${limit} for one data file; raise PUNET_MAX_FILE_BYTES if it is genuine`, path);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Checks a PNG's IHDR before decoding: signature, non-zero dimensions and width*height within
 * the pixel limit. Anything else malformed is left to the decoder's own error.
 */
export function checkPngHeader(bytes: Uint8Array, nameForErrors: string, limit = maxImagePixels()): void {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new DataError(`${nameForErrors} is not a readable PNG (no PNG signature); re-export it or remove it`, nameForErrors);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0) throw new DataError(`${nameForErrors} is not a readable PNG (it declares an empty ${width}x${height} image); re-export it or remove it`, nameForErrors);
  if (width * height > limit) {
    throw new DataError(
      `${nameForErrors} declares ${width}x${height} pixels, more than the limit of ${limit}; ` +
        'shrink the image, or raise PUNET_MAX_IMAGE_PIXELS if it is genuine',
      nameForErrors,
    );
  }
}

function envLimit(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
