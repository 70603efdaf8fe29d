/**
 * The `lidc-pickle` layout: the PyTorch Prob. U-Net port's LIDC pickle, a dict keyed by file name
 * whose values are { image: float32 HxW in [0,1], masks: [ndarray x graders], series_uid: str }.
 * Read with the safe pickle reader (never executes code). Items are grouped by patient
 * (LIDC-IDRI-NNNN found in the key) or, failing that, by series_uid.
 */
import { statSync } from 'node:fs';
import { readRegularFile } from '../file-guard.js';
import type { RasterImage } from '../png.js';
import { DataError } from '../errors.js';
import type { ScanResult, SourceItem } from './options.js';
import { ImportIssue } from './issues.js';
import { isNdArray, loadPickle, type NdArray } from './pickle.js';

const PATIENT = /LIDC-IDRI-\d+/i;

export function scanLidcPickle(src: string): ScanResult {
  if (isFolder(src)) throw new DataError(`${src} is a folder; --layout lidc-pickle needs the .pickle file`, src);
  const bytes = readRegularFile(src);
  const top = loadPickle(bytes, src);
  if (!(top instanceof Map)) throw new DataError(`${src}: expected a pickled dict of items keyed by file name, found ${describe(top)}`, src);

  const items: Array<SourceItem & { maskCount: number }> = [];
  const issues: ImportIssue[] = [];
  for (const [key, value] of top) {
    const id = keyText(key);
    const where = `${src} [${JSON.stringify(id)}]`;
    const problem = (message: string) => issues.push(new ImportIssue('malformed item', id, `${where}: ${message}`, src));
    if (!(value instanceof Map)) {
      problem(`expected a dict with image, masks and series_uid, found ${describe(value)}`);
      continue;
    }
    const image = value.get('image');
    const masks = value.get('masks');
    const series = value.get('series_uid');
    if (!isNdArray(image)) {
      problem(`'image' is ${describe(image)}, expected a numpy array`);
      continue;
    }
    if (!Array.isArray(masks) || masks.length === 0 || !masks.every(isNdArray)) {
      problem(`'masks' is ${describe(masks)}, expected a list of numpy arrays`);
      continue;
    }
    const patient = PATIENT.exec(id)?.[0];
    items.push({
      id,
      maskCount: masks.length,
      group: patient ?? (typeof series === 'string' ? series : id),
      file: where,
      load: () => ({
        image: imageRaster(image, id, where),
        masks: (masks as NdArray[]).map((m, k) => ({ file: `${where} mask ${k}`, raster: maskRaster(m, id, `${where} mask ${k}`) })),
      }),
    });
  }
  // The grader count is the most common mask count: items with another count (a missing grader,
  // or an outlier with an extra mask) are reported, not allowed to decide for all the others.
  const graders = mostCommon(items.map((i) => i.maskCount));
  const kept: SourceItem[] = [];
  for (const { maskCount, ...item } of items) {
    if (maskCount !== graders) {
      const kind = maskCount < graders ? 'missing annotator mask' : 'malformed item';
      issues.push(new ImportIssue(kind, item.id, `${item.file}: has ${maskCount} masks, other items have ${graders} (the most common count)`, src));
    } else kept.push(item);
  }
  return {
    source: src,
    imagesFound: top.size,
    annotators: Array.from({ length: graders }, (_, k) => `mask ${k}`),
    items: kept,
    issues,
    notes: [],
  };
}

/** Dict keys as item ids: str as is, bytes decoded, ints and tuples as text. */
function keyText(key: unknown): string {
  if (key instanceof Uint8Array) return Buffer.from(key).toString('utf8');
  return String(key);
}

/** The most frequent value (the smaller one on a tie); 0 for none. */
function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
  return best;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (isNdArray(value)) return `an ndarray ${value.dtype} (${value.shape.join(', ')})`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Map) return `a dict of ${value.size}`;
  return typeof value;
}

function plane2d(array: NdArray, itemId: string, where: string): { height: number; width: number } {
  const shape = array.shape.filter((d, i) => !(d === 1 && array.shape.length > 2 && (i === 0 || i === array.shape.length - 1)));
  if (shape.length !== 2) throw new ImportIssue('malformed item', itemId, `${where}: expected a 2-D array, got shape (${array.shape.join(', ')})`);
  return { height: shape[0], width: shape[1] };
}

/** float images in [0, 1] (or uint8 0..255) to 8-bit gray. */
function imageRaster(array: NdArray, itemId: string, where: string): RasterImage {
  const { height, width } = plane2d(array, itemId, where);
  const out = new Uint8Array(width * height);
  const isFloat = array.dtype.startsWith('float');
  for (let i = 0; i < out.length; i++) {
    const v = Number(array.data[i]);
    if (isFloat) {
      if (!(v >= -1e-6 && v <= 1 + 1e-6)) throw new ImportIssue('malformed item', itemId, `${where}: image value ${v} at pixel ${i} is outside [0, 1]`);
      out[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    } else {
      if (!(v >= 0 && v <= 255)) throw new ImportIssue('malformed item', itemId, `${where}: image value ${v} at pixel ${i} is outside 0..255`);
      out[i] = v;
    }
  }
  return { width, height, channels: 1, data: out };
}

/** Masks as stored (0/1 ints, bools or floats) to 8-bit: floats in [0,1] are scaled by 255. */
function maskRaster(array: NdArray, itemId: string, where: string): RasterImage {
  const { height, width } = plane2d(array, itemId, where);
  const out = new Uint8Array(width * height);
  const isFloat = array.dtype.startsWith('float');
  for (let i = 0; i < out.length; i++) {
    const v = Number(array.data[i]);
    const scaled = isFloat ? v * 255 : v;
    if (!(scaled >= 0 && scaled <= 255)) throw new ImportIssue('non-binary mask', itemId, `${where}: mask value ${v} at pixel ${i} is not a 0/1 label`);
    out[i] = Math.round(scaled);
  }
  return { width, height, channels: 1, data: out };
}
