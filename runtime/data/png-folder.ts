/**
 * A dataset read directly from a folder of PNGs (no import step). Layout:
 *
 *   DIR/<id>/image.png            the image (gray, gray+alpha, RGB or RGBA; alpha is dropped)
 *   DIR/<id>/annotation-*.png     one mask per annotator, in natural name order
 *                                 (annotation-2 before annotation-10)
 *   DIR/splits.json               optional: { "train": [ids], "val": [ids], "test": [ids],
 *                                             "groups": { "<id>": "<group>" } }
 *
 * Every image must already have the spec's input size (resizing is `punet import`'s job).
 * Images: 1 channel wanted -> RGB is converted to luma; 3 wanted -> gray is repeated.
 * Masks are read from their first channel: values <= classes - 1 are class ids as they are;
 * otherwise, for 2 classes, value >= 128 is foreground (0/255 masks); anything else is an error.
 * Without split lists, items are split by group with the shared seeded splitter (group = the
 * `groups` entry, else the id). Hidden entries (starting with '.') are ignored.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { readPng, type DecodedPng } from './png.js';
import { toChannels } from './image-ops.js';
import { splitByGroup, type SplitFractions } from './splits.js';
import type { DataItem, Dataset, SplitName } from './types.js';

export interface PngFolderOptions {
  height: number;
  width: number;
  channels: number;
  classes: number;
  seed: number;
  fractions?: SplitFractions;
}

interface SplitsFile {
  train?: string[];
  val?: string[];
  test?: string[];
  groups?: Record<string, string>;
}

const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

export function readPngFolder(dir: string, opts: PngFolderOptions): Dataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`png-folder: ${dir} is not a folder; expected DIR/<id>/image.png + DIR/<id>/annotation-*.png`, dir);
  }
  if (opts.channels !== 1 && opts.channels !== 3) {
    throw new DataError(`png-folder: the spec asks for ${opts.channels} input channels; PNG folders provide 1 (gray) or 3 (RGB)`, dir);
  }
  const ids = readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory())
    .sort(naturalOrder);
  if (ids.length === 0) {
    throw new DataError(`png-folder: ${dir} has no item folders; expected DIR/<id>/image.png + DIR/<id>/annotation-*.png`, dir);
  }
  const splitsFile = readSplitsFile(dir);
  const items = ids.map((id) => readItem(dir, id, splitsFile.groups?.[id] ?? id, opts));
  const splits = hasSplitLists(splitsFile)
    ? splitsFromFile(dir, splitsFile, items)
    : splitByGroup(
        items.map((it) => it.group),
        { seed: opts.seed, ...(opts.fractions ? { fractions: opts.fractions } : {}) },
      );
  return {
    name: dir.split(/[\\/]/).filter(Boolean).pop() ?? 'png-folder',
    height: opts.height,
    width: opts.width,
    channels: opts.channels,
    classes: opts.classes,
    items,
    splits,
    provenance: { source: 'png-folder', path: dir, splits: hasSplitLists(splitsFile) ? 'splits.json' : `seeded by group (seed ${opts.seed})` },
  };
}

function readItem(dir: string, id: string, group: string, opts: PngFolderOptions): DataItem {
  const folder = join(dir, id);
  const imagePath = join(folder, 'image.png');
  if (!existsSync(imagePath)) throw new DataError(`png-folder: ${folder} has no image.png`, imagePath);
  const annotationFiles = readdirSync(folder)
    .filter((name) => /^annotation-.*\.png$/i.test(name))
    .sort(naturalOrder);
  if (annotationFiles.length === 0) {
    throw new DataError(`png-folder: ${folder} has no annotation-*.png; add at least one mask (e.g. annotation-0.png)`, folder);
  }
  const decoded = readPng(imagePath);
  checkSize(imagePath, decoded, opts);
  const image = toChannels(decoded, opts.channels as 1 | 3);
  const pixels = Float32Array.from(image.data, (v) => v / 255);
  const annotations = annotationFiles.map((name) => readMask(join(folder, name), opts));
  return { id, group, image: pixels, annotations };
}

function checkSize(path: string, png: DecodedPng, opts: PngFolderOptions): void {
  if (png.width !== opts.width || png.height !== opts.height) {
    throw new DataError(
      `png-folder: ${path} is ${png.width}x${png.height} (width x height) but the spec's input.size is ` +
        `[${opts.height}, ${opts.width}] (height, width): resize the data (punet import can) or change input.size`,
      path,
    );
  }
}

function readMask(path: string, opts: PngFolderOptions): Uint8Array {
  const png = readPng(path);
  checkSize(path, png, opts);
  const pixels = png.width * png.height;
  const mask = new Uint8Array(pixels);
  let max = 0;
  for (let p = 0; p < pixels; p++) {
    const base = p * png.channels;
    const v = png.data[base]!;
    if (png.channels >= 3 && (png.data[base + 1] !== v || png.data[base + 2] !== v)) {
      throw new DataError(`png-folder: ${path} is a colour image; masks must be grayscale class ids (or 0/255)`, path);
    }
    mask[p] = v;
    if (v > max) max = v;
  }
  if (max <= opts.classes - 1) return mask;
  if (opts.classes === 2) {
    for (let p = 0; p < pixels; p++) mask[p] = mask[p]! >= 128 ? 1 : 0;
    return mask;
  }
  throw new DataError(
    `png-folder: ${path} holds the value ${max}, but the spec has ${opts.classes} classes (class ids 0..${opts.classes - 1})`,
    path,
  );
}

function readSplitsFile(dir: string): SplitsFile {
  const path = join(dir, 'splits.json');
  if (!existsSync(path)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DataError(`png-folder: ${path} is not valid JSON (${(err as Error).message})`, path);
  }
  const bad = (what: string) => new DataError(`png-folder: ${path}: ${what}; expected { "train": [ids], "val": [ids], "test": [ids], "groups": { id: group } }`, path);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not an object');
  const file = json as Record<string, unknown>;
  for (const key of Object.keys(file)) if (!['train', 'val', 'test', 'groups'].includes(key)) throw bad(`unknown key "${key}"`);
  for (const split of ['train', 'val', 'test'] as const) {
    const list = file[split];
    if (list !== undefined && !(Array.isArray(list) && list.every((x) => typeof x === 'string'))) throw bad(`"${split}" must be a list of item ids`);
  }
  const groups = file.groups;
  if (groups !== undefined && (typeof groups !== 'object' || groups === null || Object.values(groups).some((g) => typeof g !== 'string'))) {
    throw bad('"groups" must map item ids to group names');
  }
  return file as SplitsFile;
}

function hasSplitLists(file: SplitsFile): boolean {
  return file.train !== undefined || file.val !== undefined || file.test !== undefined;
}

function splitsFromFile(dir: string, file: SplitsFile, items: DataItem[]): Record<SplitName, number[]> {
  const path = join(dir, 'splits.json');
  const indexOf = new Map(items.map((it, i) => [it.id, i]));
  const splitOf = new Map<string, SplitName>();
  const out: Record<SplitName, number[]> = { train: [], val: [], test: [] };
  for (const split of ['train', 'val', 'test'] as const) {
    for (const id of file[split] ?? []) {
      const index = indexOf.get(id);
      if (index === undefined) throw new DataError(`png-folder: ${path} lists "${id}" in "${split}", but ${dir} has no folder "${id}"`, path);
      const previous = splitOf.get(id);
      if (previous) throw new DataError(`png-folder: ${path} lists "${id}" in both "${previous}" and "${split}"`, path);
      splitOf.set(id, split);
      out[split].push(index);
    }
  }
  const missing = items.filter((it) => !splitOf.has(it.id)).map((it) => it.id);
  if (missing.length) {
    throw new DataError(`png-folder: ${path} does not list ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''} in any split`, path);
  }
  const splitOfGroup = new Map<string, SplitName>();
  for (const it of items) {
    const split = splitOf.get(it.id)!;
    const other = splitOfGroup.get(it.group);
    if (other && other !== split) {
      throw new DataError(`png-folder: ${path} puts group "${it.group}" in both "${other}" and "${split}"; a group must stay in one split`, path);
    }
    splitOfGroup.set(it.group, split);
  }
  for (const list of Object.values(out)) list.sort((a, b) => a - b);
  return out;
}
