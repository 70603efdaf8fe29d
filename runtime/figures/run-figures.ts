/**
 * Sample-grid figures for a trained model on a dataset: what `punet sample`, `punet eval`,
 * compile-and-train and `punet report` call. Builds the figure rows from dataset items and
 * their prior samples (runtime/sample/sampler.ts), so callers that already drew samples pass
 * them in and pay nothing extra.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProbabilisticSegmenter } from '../../compiler/api.js';
import { writePng } from '../data/png.js';
import type { Dataset } from '../data/types.js';
import { sampleItems, type ImageSamples } from '../sample/sampler.js';
import { STREAM } from '../train/rng.js';
import type { RgbImage } from './canvas.js';
import { decodeLatentGrid, type DecodedLatentGrid } from './latent-decode.js';
import { latentGridFigure } from './latent-grid.js';
import { latentGridSvg } from './latent-grid-svg.js';
import { gridContent, renderGridRaster, sampleGridFigure, type SampleGridOptions, type SampleGridRow } from './sample-grid.js';
import { renderGridSvg } from './sample-grid-svg.js';

/** Options of the figure other than the data's geometry (taken from the dataset). */
export type FigureStyle = Omit<SampleGridOptions, 'height' | 'width' | 'channels' | 'classes'> & {
  /** Classes to colour (default: the dataset's; pass spec.input.classes when larger). */
  classes?: number;
};

/** One row per item: its image and annotations, and its samples (hard masks + soft foreground). */
export function sampleGridRows(dataset: Dataset, items: number[], samples: ImageSamples[]): SampleGridRow[] {
  if (items.length !== samples.length) throw new RangeError(`sampleGridRows: ${items.length} items but ${samples.length} sample sets`);
  return items.map((index, k) => {
    const item = dataset.items[index]!;
    const s = samples[k]!;
    return { image: item.image, annotations: item.annotations, samples: s.masks, probabilities: s.foreground.length === s.masks.length ? s.foreground : undefined };
  });
}

/** Figure options from the dataset: geometry, annotator names, image ids as row labels. */
function gridOptions(dataset: Dataset, items: number[], style: FigureStyle): SampleGridOptions {
  return {
    ...style,
    height: dataset.height,
    width: dataset.width,
    channels: dataset.channels,
    classes: Math.max(dataset.classes, style.classes ?? 0),
    annotators: style.annotators ?? dataset.annotators,
    rowLabels: style.rowLabels ?? items.map((i) => dataset.items[i]!.id),
  };
}

/** The sample-grid figure of `items` with their already drawn `samples`. */
export function sampleGridForItems(dataset: Dataset, items: number[], samples: ImageSamples[], style: FigureStyle = {}): RgbImage {
  return sampleGridFigure(sampleGridRows(dataset, items, samples), gridOptions(dataset, items, style));
}

/**
 * Writes the figure as an RGB PNG and, beside it, as an SVG with vector text (same name, .svg),
 * atomically, creating the folder; returns the PNG's path.
 */
export function writeSampleGrid(file: string, dataset: Dataset, items: number[], samples: ImageSamples[], style: FigureStyle = {}): string {
  mkdirSync(dirname(file), { recursive: true });
  const options = gridOptions(dataset, items, style);
  const content = gridContent(sampleGridRows(dataset, items, samples), options); // tiles and maps, shared by both renderings
  writePng(file, renderGridRaster(content, options));
  writeTextAtomic(file.replace(/\.png$/, '') + '.svg', renderGridSvg(content));
  return file;
}

export interface RenderSampleGridOptions {
  /** Dataset item indices (e.g. the first 8 of the test split). */
  items: number[];
  /** Samples per image. */
  n: number;
  seed: number;
  batchSize: number;
  style?: FigureStyle;
}

/**
 * Draws n prior samples per item (same seed stream as `punet sample`, so the same pictures) and
 * returns the figure. For callers with no samples at hand (the report).
 */
export async function renderSampleGrid(segmenter: ProbabilisticSegmenter, dataset: Dataset, o: RenderSampleGridOptions): Promise<RgbImage> {
  const samples = await sampleItems(segmenter, dataset, o.items, o.n, { seed: o.seed, stream: STREAM.sampling, batchSize: o.batchSize });
  return sampleGridForItems(dataset, o.items, samples, o.style);
}

export interface LatentGridResult {
  figure: RgbImage;
  /** The same figure as SVG (vector text). */
  svg: string;
  decoded: DecodedLatentGrid;
}

/** Writes the latent grid as PNG and, beside it, SVG (same name); returns the PNG's path. */
export function writeLatentGrid(file: string, grid: Pick<LatentGridResult, 'figure' | 'svg'>): string {
  mkdirSync(dirname(file), { recursive: true });
  writePng(file, grid.figure);
  writeTextAtomic(file.replace(/\.png$/, '') + '.svg', grid.svg);
  return file;
}

/** A text file through a temporary name, so readers never see half of it. */
function writeTextAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

export interface LatentGridForImageOptions {
  /** Shown above the input panel of the SVG. */
  imageId?: string;
  height: number;
  width: number;
  channels: number;
  classes: number;
  grid?: number;
  range?: number;
  dims?: [number, number];
  scale?: number;
  masks?: 'overlay' | 'binary';
}

/**
 * The latent-grid figure of one image (one prepare, one decode): what `punet latent-grid` draws,
 * for callers that want it too (e.g. compile-and-train for the first test image).
 */
export async function latentGridForImage(
  segmenter: ProbabilisticSegmenter,
  image: Float32Array,
  o: LatentGridForImageOptions,
): Promise<LatentGridResult> {
  const decoded = await decodeLatentGrid(segmenter, {
    image,
    height: o.height,
    width: o.width,
    channels: o.channels,
    grid: o.grid ?? 9,
    range: o.range ?? 3,
    dims: o.dims,
  });
  const options = {
    height: o.height,
    width: o.width,
    channels: o.channels,
    classes: o.classes,
    offsets: decoded.offsets,
    dims: decoded.dims,
    sigma: decoded.sigma,
    scale: o.scale,
    masks: o.masks,
  };
  return { figure: latentGridFigure(image, decoded.masks, options), svg: latentGridSvg(image, decoded.masks, { ...options, imageId: o.imageId }), decoded };
}
