/**
 * The sample grid: one row per image with the input, its annotations, the model's samples and
 * per-pixel summaries of the samples (foreground frequency, entropy, std), under a header row
 * naming the columns and above a colour-scale legend. Plain data in, an RGB image out.
 */
import { blitScaled, createCanvas, fillRect, type Rgb, type RgbImage } from './canvas.js';
import { GLYPH_ADVANCE, drawText, fitText, textHeight, textWidth } from './font.js';
import { VIRIDIS } from './colormap.js';
import { entropyMap, foregroundFrequency, foregroundIndicator, meanMap, stdMap } from './maps.js';
import { heatTile, imageTile, maskTile, type MaskStyle } from './tiles.js';

export interface SampleGridRow {
  /** H*W*C values in [0, 1], channels last. */
  image: Float32Array;
  /** One mask per annotator (class id per pixel, H*W); may be empty. */
  annotations: Uint8Array[];
  /** The model's samples as hard masks (H*W each). */
  samples: Uint8Array[];
  /** Soft foreground probability (1 - p(background)) per sample, H*W each, when known. */
  probabilities?: Float32Array[];
}

/**
 * Summary columns after the samples:
 * - frequency: fraction of samples that are foreground, 0..1;
 * - entropy: entropy (bits) of the samples' per-pixel class distribution, 0..log2(K);
 * - std: std over samples of the soft foreground probability (hard indicator when no soft
 *   probabilities are given), 0..0.5;
 * - probability: mean soft foreground probability over samples, 0..1 (needs probabilities).
 */
export type SummaryMap = 'frequency' | 'entropy' | 'std' | 'probability';

export interface SampleGridOptions {
  height: number;
  width: number;
  channels: number;
  /** Number of classes including background. */
  classes: number;
  /** Nearest-neighbour upscaling of every panel (default: about 128 pixels per panel). */
  scale?: number;
  /** Separator between panels, in pixels (default 2). */
  gap?: number;
  /** Masks overlaid on the image (default) or drawn on black. */
  masks?: MaskStyle;
  /** Default: frequency and entropy, plus std when soft probabilities are given. */
  maps?: SummaryMap[];
}

/** Where everything goes; exported so tests (and the report) can reason about the layout. */
export interface GridLayout {
  width: number;
  height: number;
  /** Panel size after scaling. */
  tileWidth: number;
  tileHeight: number;
  margin: number;
  gap: number;
  fontScale: number;
  headerHeight: number;
  legendHeight: number;
  columns: number;
  rows: number;
  /** Top-left corner of the panel in column `c` (0-based) of image row `r`. */
  cell(r: number, c: number): { x: number; y: number };
}

export const GRID_MARGIN = 4;

/** Panel scale giving about 128-pixel panels: 32x32 -> x4, 128x128 -> x1. */
export function defaultScale(height: number, width: number): number {
  return Math.max(1, Math.round(128 / Math.max(height, width)));
}

/** Text scale: 2 (12-pixel characters) when panels are wide enough for 8 characters, else 1. */
export function fontScaleFor(tileWidth: number): number {
  return tileWidth >= textWidth('ENTROPY', 2) + 4 ? 2 : 1;
}

export function gridLayout(rows: number, columns: number, tileHeight: number, tileWidth: number, gap: number, withLegend: boolean): GridLayout {
  const margin = GRID_MARGIN;
  const fontScale = fontScaleFor(tileWidth);
  const headerHeight = textHeight(fontScale) + 6;
  const legendHeight = withLegend ? textHeight(fontScale) + 8 : 0;
  const width = 2 * margin + columns * tileWidth + (columns - 1) * gap;
  const height = 2 * margin + headerHeight + rows * tileHeight + (rows - 1) * gap + legendHeight;
  return {
    width,
    height,
    tileWidth,
    tileHeight,
    margin,
    gap,
    fontScale,
    headerHeight,
    legendHeight,
    columns,
    rows,
    cell: (r, c) => ({ x: margin + c * (tileWidth + gap), y: margin + headerHeight + r * (tileHeight + gap) }),
  };
}

const MAP_LABEL: Record<SummaryMap, string> = { frequency: 'FREQ', entropy: 'ENTROPY', std: 'STD', probability: 'MEAN P' };
const INK: Rgb = [20, 20, 20];

/** The column labels, in order: IMAGE, GT 1..m, S 1..n, then the summary maps. */
export function columnLabels(annotations: number, samples: number, maps: SummaryMap[]): string[] {
  return [
    'IMAGE',
    ...Array.from({ length: annotations }, (_, i) => `GT ${i + 1}`),
    ...Array.from({ length: samples }, (_, i) => `S ${i + 1}`),
    ...maps.map((m) => MAP_LABEL[m]),
  ];
}

export function sampleGridFigure(rows: SampleGridRow[], o: SampleGridOptions): RgbImage {
  if (!rows.length) throw new RangeError('sampleGridFigure: no rows to draw');
  const shape = { height: o.height, width: o.width, channels: o.channels, classes: o.classes };
  const scale = o.scale ?? defaultScale(o.height, o.width);
  const gap = o.gap ?? 2;
  const style = o.masks ?? 'overlay';
  const hasSoft = rows.some((r) => r.probabilities?.length);
  const maps = (o.maps ?? (hasSoft ? ['frequency', 'entropy', 'std'] : ['frequency', 'entropy'])).filter(
    (m) => m !== 'probability' || hasSoft,
  );
  const nAnn = Math.max(...rows.map((r) => r.annotations.length));
  const nSamples = Math.max(...rows.map((r) => r.samples.length));
  const labels = columnLabels(nAnn, nSamples, maps);
  const layout = gridLayout(rows.length, labels.length, o.height * scale, o.width * scale, gap, maps.length > 0);
  const canvas = createCanvas(layout.width, layout.height);

  labels.forEach((label, c) => {
    const { x } = layout.cell(0, c);
    const text = fitText(label, layout.tileWidth, layout.fontScale);
    drawText(canvas, text, x + Math.floor((layout.tileWidth - textWidth(text, layout.fontScale)) / 2), layout.margin + 2, INK, layout.fontScale);
  });

  const entropyMax = Math.log2(Math.max(2, o.classes));
  rows.forEach((row, r) => {
    const put = (c: number, tile: RgbImage) => {
      const { x, y } = layout.cell(r, c);
      blitScaled(canvas, tile, x, y, scale);
    };
    put(0, imageTile(row.image, shape));
    row.annotations.forEach((m, k) => put(1 + k, maskTile(m, shape, style, row.image)));
    row.samples.forEach((m, k) => put(1 + nAnn + k, maskTile(m, shape, style, row.image)));
    if (!row.samples.length) return;
    const soft = row.probabilities?.length === row.samples.length ? row.probabilities : undefined;
    maps.forEach((kind, k) => {
      const c = 1 + nAnn + nSamples + k;
      if (kind === 'frequency') put(c, heatTile(foregroundFrequency(row.samples), shape, 0, 1));
      else if (kind === 'entropy') put(c, heatTile(entropyMap(row.samples, o.classes), shape, 0, entropyMax));
      else if (kind === 'std') put(c, heatTile(stdMap(soft ?? row.samples.map(foregroundIndicator)), shape, 0, 0.5));
      else if (soft) put(c, heatTile(meanMap(soft), shape, 0, 1));
    });
  });

  if (maps.length) drawLegend(canvas, layout, maps, entropyMax);
  return canvas;
}

/** One line under the grid: the viridis bar and what its ends mean for each map. */
function drawLegend(canvas: RgbImage, layout: GridLayout, maps: SummaryMap[], entropyMax: number): void {
  const s = layout.fontScale;
  const y = layout.height - layout.margin - layout.legendHeight + 4;
  const h = textHeight(s);
  let x = layout.margin;
  const barWidth = Math.min(128, Math.max(32, Math.floor(layout.width / 6)));
  drawText(canvas, 'LOW', x, y, INK, s);
  x += textWidth('LOW ', s);
  for (let i = 0; i < barWidth; i++) fillRect(canvas, x + i, y, 1, h, VIRIDIS[Math.round((i / (barWidth - 1)) * (VIRIDIS.length - 1))]!);
  x += barWidth + GLYPH_ADVANCE * s;
  drawText(canvas, 'HIGH', x, y, INK, s);
  x += textWidth('HIGH  ', s);
  const ranges: Record<SummaryMap, string> = {
    frequency: 'FREQ 0-1',
    entropy: `ENTROPY 0-${Number(entropyMax.toFixed(2))} BIT`,
    std: 'STD 0-0.5',
    probability: 'MEAN P 0-1',
  };
  const text = maps.map((m) => ranges[m]).join('  ');
  drawText(canvas, fitText(text, layout.width - x - layout.margin, s), x, y, INK, s);
}
