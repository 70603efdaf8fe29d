/** Options of `punet import` and the scanned-source shape every layout produces. */
import type { DeepRasterImage, RasterImage } from '../png.js';
import type { IntensityWindowMode } from '../normalize.js';
import type { SplitName } from '../types.js';
import type { SplitFractions } from '../splits.js';

export type Layout = 'folders' | 'lidc-png' | 'lidc-pickle';
export const LAYOUTS: readonly Layout[] = ['folders', 'lidc-png', 'lidc-pickle'];

/** Which mask value is foreground: auto (per mask: the value covering most of the border is background), white (higher value), black (lower value). */
export type Polarity = 'auto' | 'white' | 'black';
/** union: square around all annotators' foreground plus a margin; center: centred square; none: whole image. */
export type CropMode = 'union' | 'center' | 'none';

export interface ImportOptions {
  layout: Layout;
  /** Output side length (the model's input size). */
  size: number;
  polarity: Polarity;
  crop: CropMode;
  /** Margin in source pixels around the union of annotations (crop=union). */
  margin: number;
  /** Side in source pixels of the centred square (crop=center); default: the shorter image side. */
  cropSize?: number;
  grayscale: boolean;
  /** How raw intensities become [0, 1]: a percentile window over the dataset, per image, or the file's full scale. */
  intensity: IntensityWindowMode;
  /** Lower and upper percentile of the window (intensity dataset or image). */
  percentiles: [number, number];
  strict: boolean;
  seed: number;
  /** Split fractions; undefined = keep the source's split folders if it has them, else 0.7/0.15/0.15. */
  split?: SplitFractions;
  /** Binarise masks at this grey level instead of requiring exactly two values. */
  threshold?: number;
  /** folders layout: names of the image and annotation folders inside SRC (auto-detected if unset). */
  imagesDir?: string;
  annotationsDir?: string;
  name?: string;
  /** Replace an existing dataset at --out. */
  force: boolean;
}

/** Defaults that depend on the layout: BU-BIL-like folders vs LIDC's 180px tiles with white lesions. */
export function layoutDefaults(layout: Layout): Pick<ImportOptions, 'polarity' | 'crop' | 'cropSize' | 'intensity'> {
  switch (layout) {
    case 'folders':
      // Microscopy and other raw data: 12-bit values in 16-bit files, dim 8-bit frames: stretch.
      return { polarity: 'auto', crop: 'union', intensity: 'dataset' };
    case 'lidc-png':
      // The Prob. U-Net paper trains on 128x128 crops of the 180x180 LIDC tiles: centre crop, no rescale,
      // intensities as stored.
      return { polarity: 'white', crop: 'center', cropSize: 128, intensity: 'none' };
    case 'lidc-pickle':
      return { polarity: 'white', crop: 'center', intensity: 'none' };
  }
}

/** One item found in the source, loaded lazily so a bad file only costs that item. */
export interface SourceItem {
  id: string;
  group: string;
  /** The split folder it came from, if the source has them. */
  sourceSplit?: SplitName;
  /** The image file (for messages). */
  file: string;
  /** Reads the image and every annotator's mask; throws DataError/ImportIssue on bad files. */
  load(): { image: RasterImage | DeepRasterImage; bitDepth?: number; masks: { file: string; raster: RasterImage }[] };
}

/** What scanning a source found before any pixel is read. */
export interface ScanResult {
  source: string;
  imagesFound: number;
  annotators: string[];
  items: SourceItem[];
  /** Items that cannot be imported, found while scanning (e.g. an annotator has no mask). */
  issues: import('./issues.js').ImportIssue[];
  /** Things worth telling the user that are not errors (ignored folders, case-insensitive matches). */
  notes: string[];
}
