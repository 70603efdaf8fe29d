/**
 * The on-disk punet dataset (docs/data.md): a folder with
 *   dataset.json  metadata, one entry per item (id, group, split, annotation count, modes)
 *   images.bin    pixels, items in order, H*W*C each: version 2 uint16 little-endian
 *                 (value = round(65535 * image value)); version 1 (still read) uint8 (x 255)
 *   masks.bin     uint8 class ids, every annotation of every item in order, H*W each
 *   modes.bin     (only if some item has modes) uint8 class ids of every mode mask in order
 * Written into a temp folder next to the target and renamed, so a crash never leaves a
 * half-written dataset. Read with one read per blob and subarray views per item.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Dataset, DataItem, Mode, SplitName } from './types.js';
import { DataError } from './errors.js';
import { datasetProblems } from './validate.js';
import type { IntensityRecord } from './normalize.js';

export const DATASET_FORMAT = 'punet-dataset';
/** Version 2: uint16 images (16-bit sources keep their precision), annotators, intensity. */
export const DATASET_VERSION = 2;
const READABLE_VERSIONS = [1, 2];
/** Full scale of a stored image sample per format version. */
const IMAGE_SCALE: Record<number, { bytes: 1 | 2; max: number }> = { 1: { bytes: 1, max: 255 }, 2: { bytes: 2, max: 65535 } };
const SPLITS: SplitName[] = ['train', 'val', 'test'];

export interface StoredItem {
  id: string;
  group: string;
  split: SplitName | null;
  annotations: number;
  modes?: { probability: number; label: string }[];
}

export interface DatasetJson {
  format: typeof DATASET_FORMAT;
  version: number;
  name: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  items: StoredItem[];
  /** Version 2: annotator names in annotation order, when known. */
  annotators?: string[];
  /** Version 2: how import mapped raw intensities to [0, 1] (runtime/data/normalize.ts). */
  intensity?: IntensityRecord;
  provenance: Record<string, unknown>;
}

export interface WriteOptions {
  /** Replace an existing punet dataset at `dir` (never a folder that is not one). */
  overwrite?: boolean;
}

/** True when `dir` holds a dataset.json of our format (used to refuse clobbering other folders). */
export function isDatasetDir(dir: string): boolean {
  try {
    const json = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    return json?.format === DATASET_FORMAT;
  } catch {
    return false;
  }
}

export function writeDataset(dir: string, dataset: Dataset, options: WriteOptions = {}): void {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!options.overwrite) throw new DataError(`${dir} already exists; choose another --out folder or pass --force to replace it`, dir);
    if (!isDatasetDir(target)) throw new DataError(`${dir} exists and is not a punet dataset; refusing to replace it`, dir);
  }
  const json = toJson(dataset);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const temp = join(parent, `.${basename(target)}.tmp-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(temp);
    writeBlob(join(temp, 'images.bin'), dataset.items.map((item) => quantise(item.image)));
    writeBlob(join(temp, 'masks.bin'), dataset.items.flatMap((item) => item.annotations));
    const modeMasks = dataset.items.flatMap((item) => (item.modes ?? []).map((m) => m.mask));
    if (modeMasks.length > 0) writeBlob(join(temp, 'modes.bin'), modeMasks);
    // dataset.json last: a folder without it is never mistaken for a finished dataset.
    writeFileSync(join(temp, 'dataset.json'), JSON.stringify(json, null, 1) + '\n');
    if (existsSync(target)) {
      const old = `${temp}-old`;
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, target);
    }
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}

function toJson(dataset: Dataset): DatasetJson {
  const { name, height, width, channels, classes, items, splits, provenance, annotators, intensity } = dataset;
  // The same rules a loaded dataset is held to (data/validate.ts); an import may leave splits empty.
  const problems = datasetProblems(dataset);
  if (problems.length) throw new RangeError(`writeDataset: ${problems.join('; ')}`);
  const splitOf = new Map<number, SplitName>();
  for (const split of SPLITS) for (const index of splits[split] ?? []) splitOf.set(index, split);
  const stored = items.map((item, index): StoredItem => {
    const entry: StoredItem = { id: item.id, group: item.group, split: splitOf.get(index) ?? null, annotations: item.annotations.length };
    if (item.modes) entry.modes = item.modes.map((m) => ({ probability: m.probability, label: m.label }));
    return entry;
  });
  return {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    name,
    height,
    width,
    channels,
    classes,
    items: stored,
    ...(annotators ? { annotators } : {}),
    ...(intensity ? { intensity } : {}),
    provenance,
  };
}

/** Image values in [0, 1] to little-endian uint16 bytes: the one lossy step of the format (16 bits). */
function quantise(image: Float32Array): Uint8Array {
  const bytes = new Uint8Array(image.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < image.length; i++) view.setUint16(i * 2, Math.round(Math.min(1, Math.max(0, image[i]!)) * 65535), true);
  return bytes;
}

function writeBlob(path: string, parts: Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      let written = 0;
      while (written < part.length) written += writeSync(fd, part, written, part.length - written);
    }
  } finally {
    closeSync(fd);
  }
}

export function readDataset(dir: string): Dataset {
  const json = readJson(dir);
  const { height, width, channels, classes, items } = json;
  const pixels = height * width;
  const scale = IMAGE_SCALE[json.version]!;
  const images = readBlob(dir, 'images.bin', items.length * pixels * channels * scale.bytes);
  const totalMasks = items.reduce((n, item) => n + item.annotations, 0);
  const masks = readBlob(dir, 'masks.bin', totalMasks * pixels);
  const totalModes = items.reduce((n, item) => n + (item.modes?.length ?? 0), 0);
  const modes = totalModes > 0 ? readBlob(dir, 'modes.bin', totalModes * pixels) : new Uint8Array(0);
  checkClassIds(dir, 'masks.bin', masks, classes);
  checkClassIds(dir, 'modes.bin', modes, classes);

  // One float conversion for all images; each item gets a view.
  const allImages = new Float32Array(images.length / scale.bytes);
  if (scale.bytes === 1) for (let i = 0; i < images.length; i++) allImages[i] = images[i]! / scale.max;
  else {
    const view = new DataView(images.buffer, images.byteOffset, images.byteLength);
    for (let i = 0; i < allImages.length; i++) allImages[i] = view.getUint16(i * 2, true) / scale.max;
  }

  const splits: Record<SplitName, number[]> = { train: [], val: [], test: [] };
  let maskOffset = 0;
  let modeOffset = 0;
  const dataItems = items.map((stored, index): DataItem => {
    const annotations: Uint8Array[] = [];
    for (let a = 0; a < stored.annotations; a++, maskOffset += pixels) annotations.push(masks.subarray(maskOffset, maskOffset + pixels));
    const item: DataItem = {
      id: stored.id,
      group: stored.group,
      image: allImages.subarray(index * pixels * channels, (index + 1) * pixels * channels),
      annotations,
    };
    if (stored.modes) {
      item.modes = stored.modes.map((m): Mode => {
        const mask = modes.subarray(modeOffset, modeOffset + pixels);
        modeOffset += pixels;
        return { mask, probability: m.probability, label: m.label };
      });
    }
    if (stored.split) splits[stored.split].push(index);
    return item;
  });
  return {
    name: json.name,
    height,
    width,
    channels,
    classes,
    items: dataItems,
    splits,
    ...(Array.isArray(json.annotators) ? { annotators: json.annotators } : {}),
    ...(json.intensity ? { intensity: json.intensity } : {}),
    provenance: json.provenance ?? {},
  };
}

/** dataset.json alone, checked (e.g. for the import rules and intensity window of `sample --image`). */
export function readDatasetJson(dir: string): DatasetJson {
  return readJson(dir);
}

function readJson(dir: string): DatasetJson {
  const path = join(dir, 'dataset.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`${dir} is not a folder; pass a dataset folder made by 'punet import'`, dir);
  }
  if (!existsSync(path)) {
    throw new DataError(`${dir} is not a punet dataset (no dataset.json); create one with 'punet import SRC --out ${dir}'`, path);
  }
  let json: DatasetJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`${path} is not valid JSON (${(err as Error).message}); the dataset is damaged, re-run 'punet import'`, path);
  }
  if (json?.format !== DATASET_FORMAT) {
    throw new DataError(`${path} is not a punet dataset (format is ${JSON.stringify(json?.format)}, expected "${DATASET_FORMAT}")`, path);
  }
  if (!READABLE_VERSIONS.includes(json.version)) {
    throw new DataError(`${path} has dataset format version ${json.version}; this punet reads versions ${READABLE_VERSIONS.join(' and ')}: upgrade punet or re-import`, path);
  }
  for (const key of ['height', 'width', 'channels', 'classes'] as const) {
    if (!Number.isInteger(json[key]) || json[key] <= 0) throw new DataError(`${path}: "${key}" must be a positive integer, got ${JSON.stringify(json[key])}`, path);
  }
  if (!Array.isArray(json.items)) throw new DataError(`${path}: "items" must be a list`, path);
  json.items.forEach((item, i) => {
    const ok =
      item &&
      typeof item.id === 'string' &&
      typeof item.group === 'string' &&
      Number.isInteger(item.annotations) &&
      item.annotations >= 0 &&
      (item.split === null || item.split === undefined || SPLITS.includes(item.split)) &&
      (item.modes === undefined || Array.isArray(item.modes));
    if (!ok) throw new DataError(`${path}: item ${i} is malformed (${JSON.stringify(item).slice(0, 120)}); re-run 'punet import'`, path);
  });
  return json;
}

function readBlob(dir: string, name: string, expected: number): Uint8Array {
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new DataError(`${path} is missing; the dataset is incomplete, re-run 'punet import'`, path);
  }
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'longer than dataset.json says';
    throw new DataError(`${path} is ${what}: expected ${expected} bytes, found ${bytes.length}; re-run 'punet import'`, path);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkClassIds(dir: string, name: string, masks: Uint8Array, classes: number): void {
  for (let i = 0; i < masks.length; i++) {
    if (masks[i] >= classes) {
      throw new DataError(`${join(dir, name)}: byte ${i} is class ${masks[i]} but dataset.json declares ${classes} classes; the dataset is damaged`, join(dir, name));
    }
  }
}
