/**
 * The sample grid: one row per image with the input (contrast-stretched for display), its
 * annotations, the model's samples and per-pixel maps: how often the annotators marked a pixel
 * next to how often the model's samples do, then the samples' entropy and std. `gridContent`
 * decides what every panel shows; `renderGridRaster` draws it as a raster with a bitmap font
 * (quick look), `renderGridSvg` (sample-grid-svg.ts) as the paper figure with real text; build
 * the content once to draw both.
 */
import { blitScaled, createCanvas, fillRect, type Rgb, type RgbImage } from './canvas.js';
import { GLYPH_ADVANCE, drawText, fitText, textHeight, textWidth } from './font.js';
import { VIRIDIS } from './colormap.js';
import { entropyMap, foregroundFrequency, foregroundIndicator, meanMap, stdMap } from './maps.js';
import { displayStretch, heatTile, imageTile, maskTile, type MaskStyle } from './tiles.js';

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
 * - annotators: fraction of annotators that marked the pixel foreground, 0..1 (rows with annotations);
 * - frequency: fraction of samples that are foreground, 0..1;
 * - entropy: entropy (bits) of the samples' per-pixel class distribution, 0..log2(K);
 * - std: std over samples of the soft foreground probability (hard indicator when no soft
 *   probabilities are given), 0..0.5;
 * - probability: mean soft foreground probability over samples, 0..1 (needs probabilities).
 */
export type SummaryMap = 'annotators' | 'frequency' | 'entropy' | 'std' | 'probability';

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
  /** Default: annotators (when some row has annotations), frequency and entropy, plus std when soft probabilities are given. */
  maps?: SummaryMap[];
  /** Column names of the annotations, e.g. the dataset's annotator names (default GT 1, GT 2, ...). */
  annotators?: string[];
  /** One label per row, e.g. the image id. */
  rowLabels?: string[];
  /** Stretch each input image's 1-99 % range to full contrast for display (default true). */
  stretch?: boolean;
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

const MAP_LABEL: Record<SummaryMap, string> = { annotators: 'ANNOT', frequency: 'FREQ', entropy: 'ENTROPY', std: 'STD', probability: 'MEAN P' };
const INK: Rgb = [20, 20, 20];

/** The column labels, in order: IMAGE, GT 1..m (or the annotators' names), S 1..n, then the summary maps. */
export function columnLabels(annotations: number, samples: number, maps: SummaryMap[], annotators?: string[]): string[] {
  return [
    'IMAGE',
    ...Array.from({ length: annotations }, (_, i) => annotators?.[i] ?? `GT ${i + 1}`),
    ...Array.from({ length: samples }, (_, i) => `S ${i + 1}`),
    ...maps.map((m) => MAP_LABEL[m]),
  ];
}

/** A summary-map column: what it shows and its colour scale. */
export interface MapColumn {
  kind: SummaryMap;
  min: number;
  max: number;
}

/** Everything the figure shows, independent of how it is drawn (raster or SVG). */
export interface GridContent {
  /** Panel size in data pixels. */
  height: number;
  width: number;
  nAnnotations: number;
  nSamples: number;
  maps: MapColumn[];
  annotators?: string[];
  rowLabels?: string[];
  /** rows x columns; undefined = blank cell (a row with fewer annotations or samples). */
  tiles: Array<Array<RgbImage | undefined>>;
  classes: number;
  masks: MaskStyle;
}

export function gridContent(rows: SampleGridRow[], o: SampleGridOptions): GridContent {
  if (!rows.length) throw new RangeError('sampleGridFigure: no rows to draw');
  const shape = { height: o.height, width: o.width, channels: o.channels, classes: o.classes };
  const style = o.masks ?? 'overlay';
  const hasSoft = rows.some((r) => r.probabilities?.length);
  const nAnn = Math.max(...rows.map((r) => r.annotations.length));
  const nSamples = Math.max(...rows.map((r) => r.samples.length));
  const defaults: SummaryMap[] = [...(nAnn ? (['annotators'] as const) : []), 'frequency', 'entropy', ...(hasSoft ? (['std'] as const) : [])];
  const kinds = (o.maps ?? defaults).filter((m) => (m !== 'probability' || hasSoft) && (m !== 'annotators' || nAnn > 0));
  const entropyMax = Math.log2(Math.max(2, o.classes));
  const range: Record<SummaryMap, [number, number]> = { annotators: [0, 1], frequency: [0, 1], entropy: [0, entropyMax], std: [0, 0.5], probability: [0, 1] };
  const maps = kinds.map((kind) => ({ kind, min: range[kind][0], max: range[kind][1] }));
  const columns = 1 + nAnn + nSamples + maps.length;
  const tiles = rows.map((row) => {
    const cells: Array<RgbImage | undefined> = new Array(columns).fill(undefined);
    const shown = o.stretch === false ? row.image : displayStretch(row.image);
    cells[0] = imageTile(shown, shape);
    row.annotations.forEach((m, k) => (cells[1 + k] = maskTile(m, shape, style, shown)));
    row.samples.forEach((m, k) => (cells[1 + nAnn + k] = maskTile(m, shape, style, shown)));
    const soft = row.probabilities?.length === row.samples.length ? row.probabilities : undefined;
    maps.forEach(({ kind, min, max }, k) => {
      const values =
        kind === 'annotators'
          ? row.annotations.length ? foregroundFrequency(row.annotations) : undefined
          : !row.samples.length ? undefined
          : kind === 'frequency' ? foregroundFrequency(row.samples)
          : kind === 'entropy' ? entropyMap(row.samples, o.classes)
          : kind === 'std' ? stdMap(soft ?? row.samples.map(foregroundIndicator))
          : soft ? meanMap(soft) : undefined;
      if (values) cells[1 + nAnn + nSamples + k] = heatTile(values, shape, min, max);
    });
    return cells;
  });
  return { height: o.height, width: o.width, nAnnotations: nAnn, nSamples, maps, annotators: o.annotators, rowLabels: o.rowLabels, tiles, classes: o.classes, masks: style };
}

/** The raster figure: tiles upscaled by nearest neighbour, bitmap-font labels, a one-line legend. */
export function sampleGridFigure(rows: SampleGridRow[], o: SampleGridOptions): RgbImage {
  return renderGridRaster(gridContent(rows, o), o);
}

/** Draws already built grid content as the raster figure (`scale`, `gap` as in SampleGridOptions). */
export function renderGridRaster(content: GridContent, o: Pick<SampleGridOptions, 'scale' | 'gap'> = {}): RgbImage {
  const scale = o.scale ?? defaultScale(content.height, content.width);
  const gap = o.gap ?? 2;
  const maps = content.maps.map((m) => m.kind);
  const labels = columnLabels(content.nAnnotations, content.nSamples, maps, content.annotators?.map((a) => a.toUpperCase()));
  const layout = gridLayout(content.tiles.length, labels.length, content.height * scale, content.width * scale, gap, maps.length > 0);
  const canvas = createCanvas(layout.width, layout.height);

  labels.forEach((label, c) => {
    const { x } = layout.cell(0, c);
    const text = fitText(label, layout.tileWidth, layout.fontScale);
    drawText(canvas, text, x + Math.floor((layout.tileWidth - textWidth(text, layout.fontScale)) / 2), layout.margin + 2, INK, layout.fontScale);
  });
  content.tiles.forEach((cells, r) => {
    cells.forEach((tile, c) => {
      if (!tile) return;
      const { x, y } = layout.cell(r, c);
      blitScaled(canvas, tile, x, y, scale);
    });
    const label = content.rowLabels?.[r];
    if (label) {
      // The image id in the input panel's corner, on a white box so it reads on any image.
      const { x, y } = layout.cell(r, 0);
      const text = fitText(label.toUpperCase(), layout.tileWidth - 4, 1);
      fillRect(canvas, x, y, textWidth(text, 1) + 4, textHeight(1) + 4, [255, 255, 255]);
      drawText(canvas, text, x + 2, y + 2, INK, 1);
    }
  });

  if (maps.length) drawLegend(canvas, layout, maps, Math.log2(Math.max(2, content.classes)));
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
    annotators: 'ANNOT 0-1',
    frequency: 'FREQ 0-1',
    entropy: `ENTROPY 0-${Number(entropyMax.toFixed(2))} BIT`,
    std: 'STD 0-0.5',
    probability: 'MEAN P 0-1',
  };
  const text = maps.map((m) => ranges[m]).join('  ');
  drawText(canvas, fitText(text, layout.width - x - layout.margin, s), x, y, INK, s);
}
