/**
 * The in-memory dataset every data source produces and training, sampling and evaluation read.
 * Plain typed arrays, no tensors: a dataset outlives any backend. Part of the plugin API (a data
 * source returns one), so it lives next to it; runtime/data/types.ts re-exports it.
 */

/** One possible segmentation of an image with its true probability (known for built-in data). */
export interface Mode {
  /** Class id per pixel, row-major, H*W. */
  mask: Uint8Array;
  probability: number;
  /** Human-readable description, e.g. "shapes {0,2}" or "empty". */
  label: string;
}

export interface DataItem {
  /** Unique within the dataset (file stem, patient/slice, generator index). */
  id: string;
  /** Items of one group (patient, series) always land in the same split. */
  group: string;
  /** H*W*C values in [0, 1], row-major, channels last. */
  image: Float32Array;
  /** One mask per annotator: class id per pixel, H*W. */
  annotations: Uint8Array[];
  /** The true distribution over segmentations, when known. */
  modes?: Mode[];
}

export type SplitName = 'train' | 'val' | 'test';

export interface Dataset {
  name: string;
  height: number;
  width: number;
  channels: number;
  /** Number of classes including background. */
  classes: number;
  items: DataItem[];
  /** Indices into `items`. Disjoint; groups never straddle splits. */
  splits: Record<SplitName, number[]>;
  /** Annotator names in annotation order (imported data: e.g. BU-BIL's Person1_Amira), when known. */
  annotators?: string[];
  /** How raw intensities were mapped to [0, 1] at import (runtime/data/normalize.ts). */
  intensity?: IntensityRecord;
  /** Where it came from, for run metadata (generator options, folder path, import report). */
  provenance: Record<string, unknown>;
}

/** How raw samples were mapped to [0, 1] at import (runtime/data/normalize.ts). */
export type IntensityWindowMode = 'dataset' | 'image' | 'none';

/** What import found and did, stored in dataset.json as `intensity` and in the import report. */
export interface IntensityRecord {
  /** Bit depth of the source files and how many images had it, e.g. { "16": 47 }. */
  bitDepths: Record<string, number>;
  /** Full scale of the samples read (255 or 65535). */
  maxValue: number;
  /** Smallest and largest raw sample over all imported images (after crop and resize). */
  range: [number, number];
  /** Bits needed for the largest sample (12 for 12-bit data stored in 16-bit files). */
  bitsUsed: number;
  /** Mean and standard deviation of the raw samples over all imported images. */
  mean: number;
  std: number;
  mode: IntensityWindowMode;
  /** Percentiles of the window (mode dataset or image). */
  percentiles?: [number, number];
  /** The raw window mapped to [0, 1] (mode dataset: one for all; none: [0, maxValue]). */
  window?: [number, number];
  /** mode image: the range of per-image window bounds. */
  perImageLow?: [number, number];
  perImageHigh?: [number, number];
}
