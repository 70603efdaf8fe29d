/**
 * The `lidc-png` layout: LIDC-IDRI crops as DeepMind published them ("lidc_crops"):
 *   [<split>/]images/<patient>/z-<z>_c<crop>.png            the CT crop (180x180)
 *   [<split>/]gt/<patient>/z-<z>_c<crop>_l<grader>.png      one mask per grader (l0..l3)
 * <split> is train/val/test (optional). Also accepted: no images/ and gt/ folders, with each
 * image and its `_l<k>.png` masks side by side in the patient (or patient/series) folders.
 * Items are grouped by patient (the first folder under images/) so no patient straddles splits.
 */
import { join, sep } from 'node:path';
import { existsSync } from 'node:fs';
import { readPng } from '../png.js';
import { withDepth } from './fs-utils.js';
import { DataError } from '../errors.js';
import type { SplitName } from '../types.js';
import type { ScanResult, SourceItem } from './options.js';
import { ImportIssue } from './issues.js';
import { findFolder, isPng, listDir, stem } from './fs-utils.js';

const GRADER_SUFFIX = /^(.*)_l(\d+)$/i;
const SPLIT_FOLDERS: [SplitName, string[]][] = [
  ['train', ['train', 'training', 'lidc_crops_train']],
  ['val', ['val', 'validation', 'valid', 'lidc_crops_val']],
  ['test', ['test', 'testing', 'lidc_crops_test']],
];

interface Found {
  rel: string; // path of the image under its root, without extension, '/'-separated
  imagePath: string;
  masks: Map<number, string>;
  split?: SplitName;
}

/** Every PNG under `dir` (recursively), as paths relative to it. */
function walkPngs(dir: string, prefix = ''): string[] {
  const { dirs, files } = listDir(join(dir, prefix));
  return [...files.filter(isPng).map((f) => join(prefix, f)), ...dirs.flatMap((d) => walkPngs(dir, join(prefix, d)))];
}

const toSlash = (p: string) => p.split(sep).join('/');

export function scanLidcPng(src: string): ScanResult {
  const top = listDir(src);
  const splitRoots: { split?: SplitName; dir: string }[] = [];
  for (const [split, names] of SPLIT_FOLDERS) {
    const hit = findFolder(top.dirs, names);
    if (hit) splitRoots.push({ split, dir: join(src, hit) });
  }
  if (splitRoots.length === 0) splitRoots.push({ dir: src });
  const notes: string[] = [];
  if (splitRoots[0].split) notes.push(`split folders found: ${splitRoots.map((r) => r.split).join(', ')}`);

  const found = new Map<string, Found>();
  for (const { split, dir } of splitRoots) {
    const listing = listDir(dir);
    const imagesDir = findFolder(listing.dirs, ['images']);
    const gtDir = findFolder(listing.dirs, ['gt', 'labels', 'masks']);
    const pairs: { rel: string; path: string; grader?: number }[] = [];
    if (imagesDir && gtDir) {
      for (const f of walkPngs(join(dir, imagesDir))) pairs.push({ rel: toSlash(stem(f)), path: join(dir, imagesDir, f) });
      for (const f of walkPngs(join(dir, gtDir))) {
        const m = GRADER_SUFFIX.exec(toSlash(stem(f)));
        if (m) pairs.push({ rel: m[1], path: join(dir, gtDir, f), grader: Number(m[2]) });
        else notes.push(`ignored ${join(dir, gtDir, f)}: a mask name must end in _l<grader>.png`);
      }
    } else {
      for (const f of walkPngs(dir)) {
        const m = GRADER_SUFFIX.exec(toSlash(stem(f)));
        pairs.push(m ? { rel: m[1], path: join(dir, f), grader: Number(m[2]) } : { rel: toSlash(stem(f)), path: join(dir, f) });
      }
    }
    for (const { rel, path, grader } of pairs) {
      const key = split ? `${split}/${rel}` : rel;
      const entry = found.get(key) ?? { rel, imagePath: '', masks: new Map(), split };
      if (grader === undefined) entry.imagePath = path;
      else entry.masks.set(grader, path);
      found.set(key, entry);
    }
  }

  const graders = [...new Set([...found.values()].flatMap((f) => [...f.masks.keys()]))].sort((a, b) => a - b);
  if (graders.length === 0 && found.size > 0) {
    throw new DataError(
      `${src}: found ${found.size} image(s) but no grader masks (a gt/ folder beside images/, or <image>_l<k>.png files); ` +
        'the lidc-png layout needs the annotations: copy the gt/ folder next to images/',
      src,
    );
  }
  const items: SourceItem[] = [];
  const issues: ImportIssue[] = [];
  let orphanMasks = 0;
  for (const entry of found.values()) {
    if (!entry.imagePath) {
      orphanMasks += entry.masks.size;
      continue;
    }
    const id = entry.rel;
    const missing = graders.filter((g) => !entry.masks.has(g));
    if (missing.length) {
      issues.push(
        new ImportIssue(
          'missing annotator mask',
          id,
          `grader ${missing.map((g) => `l${g}`).join(', ')} has no mask for ${entry.imagePath} (expected ${stem(entry.imagePath.split(sep).pop()!)}_l${missing[0]}.png)`,
          entry.imagePath,
        ),
      );
      continue;
    }
    const maskPaths = graders.map((g) => entry.masks.get(g)!);
    items.push({
      id,
      group: id.includes('/') ? id.slice(0, id.indexOf('/')) : id,
      sourceSplit: entry.split,
      file: entry.imagePath,
      load: () => ({ ...withDepth(readPng(entry.imagePath, { highDepth: true })), masks: maskPaths.map((file) => ({ file, raster: readPng(file, { grayscale: true }) })) }),
    });
  }
  if (orphanMasks) notes.push(`${orphanMasks} grader mask(s) have no image and were ignored`);
  if (found.size === 0 && !existsSync(src)) throw new DataError(`${src} does not exist`, src);
  return { source: src, imagesFound: items.length + issues.length, annotators: graders.map((g) => `l${g}`), items, issues, notes };
}
