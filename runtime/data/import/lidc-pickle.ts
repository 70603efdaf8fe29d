/**
 * The `lidc-pickle` layout: the PyTorch Prob. U-Net port's LIDC pickle, a dict keyed by file name
 * whose values are { image: float32 HxW in [0,1], masks: [ndarray x graders], series_uid: str }.
 * Read with the safe pickle reader (never executes code). Items are grouped by patient
 * (LIDC-IDRI-NNNN found in the key) or, failing that, by series_uid.
 */
import { readFileSync, statSync } from 'node:fs';
import type { RasterImage } from '../png.js';
import { DataError } from '../errors.js';
import type { ScanResult, SourceItem } from './options.js';
import { ImportIssue } from './issues.js';
import { isNdArray, loadPickle, type NdArray } from './pickle.js';

const PATIENT = /LIDC-IDRI-\d+/i;

export function scanLidcPickle(src: string): ScanResult {
  let bytes: Buffer;
  try {
    if (statSync(src).isDirectory()) throw new DataError(`${src} is a folder; --layout lidc-pickle needs the .pickle file`, src);
    bytes = readFileSync(src);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`cannot read ${src}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, src);
  }
  const top = loadPickle(bytes, src);
  if (!(top instanceof Map)) throw new DataError(`${src}: expected a pickled dict of items keyed by file name, found ${describe(top)}`, src);

  const items: SourceItem[] = [];
  const issues: ImportIssue[] = [];
  let graders = 0;
  for (const [key, value] of top) {
    const id = String(key);
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
    graders = Math.max(graders, masks.length);
    const patient = PATIENT.exec(id)?.[0];
    items.push({
      id,
      group: patient ?? (typeof series === 'string' ? series : id),
      file: where,
      load: () => ({
        image: imageRaster(image, id, where),
        masks: (masks as NdArray[]).map((m, k) => ({ file: `${where} mask ${k}`, raster: maskRaster(m, id, `${where} mask ${k}`) })),
      }),
    });
  }
  // Items with fewer masks than the most common count are missing a grader.
  const kept: SourceItem[] = [];
  for (const item of items) {
    const count = ((top.get(item.id) as Map<string, unknown>).get('masks') as unknown[]).length;
    if (count < graders) issues.push(new ImportIssue('missing annotator mask', item.id, `${item.file}: has ${count} masks, other items have ${graders}`, src));
    else kept.push(item);
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
