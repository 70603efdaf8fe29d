/**
 * The `folders` layout: a folder of images and one folder per annotator holding a mask per image,
 * e.g. BU-BIL: RawImages/B01.png and ExpertsAnnotations/<annotator>/seg_B01.png.
 *
 * Masks are matched to images by a normalised name: lower case, extension dropped, and a
 * `seg`/`mask`/`label`/`gt` prefix or suffix (joined by _ or -) removed. So seg_B18.png,
 * Seg_B18.png, B18_mask.png and b18.png all belong to image B18.png.
 */
import { join } from 'node:path';
import { readPng } from '../png.js';
import { withDepth } from './fs-utils.js';
import { DataError } from '../errors.js';
import type { ImportOptions, ScanResult, SourceItem } from './options.js';
import { ImportIssue } from './issues.js';
import { findFolder, isPng, listDir, stem } from './fs-utils.js';

const IMAGE_FOLDERS = ['RawImages', 'images', 'image', 'imgs', 'raw'];
const ANNOTATION_FOLDERS = ['ExpertsAnnotations', 'annotations', 'masks', 'labels', 'gt'];

export function maskKey(fileName: string): string {
  return stem(fileName)
    .toLowerCase()
    .replace(/^(seg|mask|label|gt)[_-]/, '')
    .replace(/[_-](seg|mask|label|gt)$/, '');
}

export function scanFolders(src: string, options: Pick<ImportOptions, 'imagesDir' | 'annotationsDir'>): ScanResult {
  const top = listDir(src);
  const imagesDir = options.imagesDir ?? findFolder(top.dirs, IMAGE_FOLDERS);
  const annotationsDir = options.annotationsDir ?? findFolder(top.dirs, ANNOTATION_FOLDERS);
  if (!imagesDir) {
    throw new DataError(`${src} has no images folder (looked for ${IMAGE_FOLDERS.join(', ')}; found ${top.dirs.join(', ') || 'no folders'}); pass --images NAME`, src);
  }
  if (!annotationsDir) {
    throw new DataError(`${src} has no annotations folder (looked for ${ANNOTATION_FOLDERS.join(', ')}; found ${top.dirs.join(', ') || 'no folders'}); pass --annotations NAME`, src);
  }
  const notes: string[] = [];
  const ignored = top.dirs.filter((d) => d !== imagesDir && d !== annotationsDir);
  if (ignored.length) notes.push(`ignored folders: ${ignored.join(', ')} (neither the images folder ${imagesDir} nor the annotations folder ${annotationsDir})`);

  const imageListing = listDir(join(src, imagesDir));
  const imageFiles = imageListing.files.filter(isPng);
  const otherFiles = imageListing.files.filter((f) => !isPng(f));
  if (otherFiles.length) notes.push(`ignored ${otherFiles.length} non-PNG file(s) in ${imagesDir}: ${otherFiles.slice(0, 5).join(', ')}`);

  // Annotators: subfolders of the annotations folder, or the folder itself if it holds masks.
  const annRoot = join(src, annotationsDir);
  const annListing = listDir(annRoot);
  const annotators = annListing.dirs.length ? annListing.dirs : [''];
  const maskIndex = new Map<string, Map<string, string>>(); // annotator -> key -> file name
  const patterns = new Map<string, number>(); // mask naming pattern, e.g. seg_<id>.png -> count
  const matched: { shown: string; pattern: string }[] = [];
  for (const annotator of annotators) {
    const files = (annotator ? listDir(join(annRoot, annotator)).files : annListing.files).filter(isPng);
    const byKey = new Map<string, string>();
    for (const f of files) {
      if (byKey.has(maskKey(f))) notes.push(`${annotationsDir}/${annotator}: ${byKey.get(maskKey(f))} and ${f} are masks of the same image; using the first`);
      else byKey.set(maskKey(f), f);
    }
    maskIndex.set(annotator, byKey);
  }

  const items: SourceItem[] = [];
  const issues: ImportIssue[] = [];
  const seen = new Set<string>();
  for (const imageName of imageFiles) {
    const id = stem(imageName);
    const key = maskKey(imageName);
    const imagePath = join(src, imagesDir, imageName);
    if (seen.has(key)) {
      issues.push(new ImportIssue('malformed item', id, `${imagePath}: another image has the same name up to case; rename one of them`, imagePath));
      continue;
    }
    seen.add(key);
    const maskPaths: string[] = [];
    let missing: ImportIssue | undefined;
    for (const annotator of annotators) {
      const file = maskIndex.get(annotator)!.get(key);
      const folder = annotator ? join(annRoot, annotator) : annRoot;
      if (!file) {
        missing ??= new ImportIssue(
          'missing annotator mask',
          id,
          `annotator ${annotator || annotationsDir} has no mask for image ${imageName} (looked in ${folder} for e.g. seg_${imageName} or ${imageName})`,
          folder,
        );
        continue;
      }
      const pattern = namePattern(file, id);
      patterns.set(pattern, (patterns.get(pattern) ?? 0) + 1);
      matched.push({ shown: `${annotator ? annotator + '/' : ''}${file}`, pattern });
      maskPaths.push(join(folder, file));
    }
    if (missing) {
      issues.push(missing);
      continue;
    }
    items.push({
      id,
      group: id,
      file: imagePath,
      load: () => ({ ...withDepth(readPng(imagePath, { highDepth: true })), masks: maskPaths.map((file) => ({ file, raster: readPng(file, { grayscale: true }) })) }),
    });
  }
  const usual = [...patterns].sort((a, b) => b[1] - a[1])[0]?.[0];
  const unusual = matched.filter((m) => m.pattern !== usual).map((m) => m.shown);
  if (unusual.length) {
    notes.push(`${unusual.length} mask name(s) differ from the usual ${usual} (matched anyway, ignoring case): ${unusual.slice(0, 6).join(', ')}${unusual.length > 6 ? ', ...' : ''}`);
  }
  const orphans = [...maskIndex].flatMap(([annotator, byKey]) => [...byKey].filter(([k]) => !seen.has(k)).map(([, f]) => `${annotator ? annotator + '/' : ''}${f}`));
  if (orphans.length) notes.push(`${orphans.length} mask(s) have no image and were ignored: ${orphans.slice(0, 6).join(', ')}${orphans.length > 6 ? ', ...' : ''}`);
  return {
    source: src,
    imagesFound: imageFiles.length,
    annotators: annotators.map((a) => a || annotationsDir),
    items,
    issues,
    notes,
  };
}

/** A mask file name with its image id replaced by <id>: seg_B01.png -> seg_<id>.png. */
function namePattern(file: string, id: string): string {
  const at = file.toLowerCase().indexOf(id.toLowerCase());
  return at < 0 ? file : file.slice(0, at) + '<id>' + file.slice(at + id.length);
}
