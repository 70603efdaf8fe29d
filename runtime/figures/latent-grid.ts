/**
 * The latent-space figure of the Probabilistic U-Net paper: the segmentation decoded at a grid
 * of prior-normalised latent positions t = (z - mu) / sigma along two latent dimensions, with
 * the t = 1 (one sigma) circle drawn over the grid. Plain data here; the model is driven by
 * latent-decode.ts.
 *
 * Layout: column c has t_x = offsets[c] (left = -range), row r has t_y = offsets[G-1-r]
 * (top = +range, as on a plot). Grid point (r, c) is index r*G + c.
 */
import { blitScaled, createCanvas, strokeEllipse, type Rgb, type RgbImage } from './canvas.js';
import { drawText, textHeight, textWidth } from './font.js';
import { displayStretch, imageTile, maskTile, type MaskStyle, type TileShape } from './tiles.js';

/** G evenly spaced values from -range to +range (G = 1: just 0). */
export function gridOffsets(grid: number, range: number): number[] {
  if (!Number.isInteger(grid) || grid < 1) throw new RangeError(`grid must be a positive integer, got ${grid}`);
  if (!(range > 0)) throw new RangeError(`range must be positive, got ${range}`);
  if (grid === 1) return [0];
  return Array.from({ length: grid }, (_, i) => -range + (2 * range * i) / (grid - 1));
}

/** The two dimensions with the largest prior sigma (ties: the lower index), in index order. */
export function largestSigmaDims(sigma: ArrayLike<number>): [number, number] {
  if (sigma.length < 2) throw new RangeError(`the latent has ${sigma.length} dimension(s); the grid needs at least 2`);
  const order = Array.from({ length: sigma.length }, (_, i) => i).sort((a, b) => sigma[b]! - sigma[a]! || a - b);
  const [a, b] = [order[0]!, order[1]!];
  return a < b ? [a, b] : [b, a];
}

/** (t_x, t_y) of grid point index r*G + c. */
export function gridPoint(index: number, offsets: number[]): { tx: number; ty: number; row: number; col: number } {
  const G = offsets.length;
  const row = Math.floor(index / G);
  const col = index % G;
  return { tx: offsets[col]!, ty: offsets[G - 1 - row]!, row, col };
}

/**
 * The G*G latent vectors (flattened, M values each, grid point r*G + c at offset (r*G + c)*M):
 * every coordinate at the prior mean except z[dims[0]] = mu + sigma * t_x and
 * z[dims[1]] = mu + sigma * t_y.
 */
export function latentGridVectors(mu: ArrayLike<number>, sigma: ArrayLike<number>, dims: [number, number], offsets: number[]): Float32Array {
  const M = mu.length;
  if (sigma.length !== M) throw new RangeError(`mu has ${M} values but sigma ${sigma.length}`);
  const [i, j] = dims;
  for (const d of dims) if (!Number.isInteger(d) || d < 0 || d >= M) throw new RangeError(`latent dimension ${d} is out of range 0..${M - 1}`);
  if (i === j) throw new RangeError(`the two latent dimensions must differ (got ${i} twice)`);
  const G = offsets.length;
  const z = new Float32Array(G * G * M);
  for (let k = 0; k < G * G; k++) {
    const { tx, ty } = gridPoint(k, offsets);
    const base = k * M;
    for (let m = 0; m < M; m++) z[base + m] = mu[m]!;
    z[base + i] = mu[i]! + sigma[i]! * tx;
    z[base + j] = mu[j]! + sigma[j]! * ty;
  }
  return z;
}

export interface LatentGridFigureOptions extends TileShape {
  classes: number;
  offsets: number[];
  dims: [number, number];
  scale?: number;
  gap?: number;
  masks?: MaskStyle;
  /** The sigma = 1 circle's colour and thickness in pixels. */
  circleColor?: Rgb;
  circleThickness?: number;
  /** The prior's sigma per dimension, shown next to the axis names when given. */
  sigma?: ArrayLike<number>;
}

export interface LatentGridLayout {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  gap: number;
  fontScale: number;
  /** Top-left of the grid's first tile. */
  gridX: number;
  gridY: number;
  /** Top-left of the input image panel. */
  imageX: number;
  imageY: number;
  /** Pixel position of t = (0, 0) and pixels per unit of t along x and y. */
  originX: number;
  originY: number;
  pixelsPerSigmaX: number;
  pixelsPerSigmaY: number;
}

export const CIRCLE_COLOR: Rgb = [255, 221, 0];
const INK: Rgb = [20, 20, 20];

export function latentGridLayout(o: LatentGridFigureOptions): LatentGridLayout {
  const scale = o.scale ?? Math.max(1, Math.round(96 / Math.max(o.height, o.width)));
  const gap = o.gap ?? 2;
  const G = o.offsets.length;
  const tileWidth = o.width * scale;
  const tileHeight = o.height * scale;
  const fontScale = tileWidth >= 64 ? 2 : 1;
  const th = textHeight(fontScale);
  const margin = 6;
  const imageX = margin;
  const imageY = margin + th + 10 + th + 4; // title line, then the image's label
  const axisLabelWidth = textWidth('-0.00', fontScale) + 6;
  const gridX = imageX + tileWidth + 16 + axisLabelWidth;
  const gridY = imageY;
  const gridW = G * tileWidth + (G - 1) * gap;
  const gridH = G * tileHeight + (G - 1) * gap;
  const width = gridX + gridW + margin;
  const height = Math.max(gridY + gridH + 4 + th + 6 + th + margin, imageY + tileHeight + margin);
  const step = G > 1 ? o.offsets[1]! - o.offsets[0]! : 1;
  return {
    width,
    height,
    tileWidth,
    tileHeight,
    gap,
    fontScale,
    gridX,
    gridY,
    imageX,
    imageY,
    // Tile centres sit at their t: column 0 at offsets[0], the top row at offsets[G-1].
    originX: gridX + tileWidth / 2 - o.offsets[0]! * ((tileWidth + gap) / step),
    originY: gridY + tileHeight / 2 + o.offsets[G - 1]! * ((tileHeight + gap) / step),
    pixelsPerSigmaX: (tileWidth + gap) / step,
    pixelsPerSigmaY: (tileHeight + gap) / step,
  };
}

/**
 * `masks[r*G + c]` decoded at grid point (r, c); `image` is the input they were decoded for.
 * Axis labels name the latent dimensions by their 0-based index in the flattened latent: Z[d].
 */
export function latentGridFigure(image: Float32Array, masks: Uint8Array[], o: LatentGridFigureOptions): RgbImage {
  const G = o.offsets.length;
  if (masks.length !== G * G) throw new RangeError(`latentGridFigure: ${G}x${G} grid needs ${G * G} masks, got ${masks.length}`);
  const L = latentGridLayout(o);
  const scale = L.tileWidth / o.width;
  const fs = L.fontScale;
  const th = textHeight(fs);
  const canvas = createCanvas(L.width, L.height);
  const [i, j] = o.dims;
  const range = o.offsets[G - 1]!;
  // Contrast-stretched for display only (dim or z-scored inputs would show black).
  const shown = displayStretch(image);

  drawText(canvas, `LATENT GRID  (Z-μ)/σ FROM ${fmt(-range)} TO ${fmt(range)}  YELLOW: 1σ`, 6, 6, INK, fs);
  drawText(canvas, 'IMAGE', L.imageX, L.imageY - th - 4, INK, fs);
  blitScaled(canvas, imageTile(shown, o), L.imageX, L.imageY, scale);

  const gridW = G * L.tileWidth + (G - 1) * L.gap;
  const gridH = G * L.tileHeight + (G - 1) * L.gap;
  masks.forEach((mask, k) => {
    const { row, col } = gridPoint(k, o.offsets);
    blitScaled(canvas, maskTile(mask, o, o.masks ?? 'overlay', shown), L.gridX + col * (L.tileWidth + L.gap), L.gridY + row * (L.tileHeight + L.gap), scale);
  });

  // Tick labels: first, middle and last offsets along each axis, at the tile centres.
  const ticks = [...new Set([0, Math.floor((G - 1) / 2), G - 1])];
  for (const c of ticks) {
    const label = fmt(o.offsets[c]!);
    const cx = L.gridX + c * (L.tileWidth + L.gap) + L.tileWidth / 2;
    drawText(canvas, label, Math.round(cx - textWidth(label, fs) / 2), L.gridY + gridH + 4, INK, fs);
  }
  for (const r of ticks) {
    const label = fmt(o.offsets[G - 1 - r]!);
    const cy = L.gridY + r * (L.tileHeight + L.gap) + L.tileHeight / 2;
    drawText(canvas, label, L.gridX - 6 - textWidth(label, fs), Math.round(cy - th / 2), INK, fs);
  }
  const axisName = (d: number) => `Z[${d}]${o.sigma ? `  σ=${o.sigma[d]!.toPrecision(3)}` : ''}`;
  const xName = `${axisName(i)} >`;
  drawText(canvas, xName, Math.round(L.gridX + gridW / 2 - textWidth(xName, fs) / 2), L.gridY + gridH + 4 + th + 6, INK, fs);
  drawText(canvas, `^ ${axisName(j)}`, L.gridX, L.gridY - th - 4, INK, fs);

  strokeEllipse(canvas, L.originX, L.originY, L.pixelsPerSigmaX, L.pixelsPerSigmaY, o.circleThickness ?? 2, o.circleColor ?? CIRCLE_COLOR, {
    x: L.gridX,
    y: L.gridY,
    width: gridW,
    height: gridH,
  });
  return canvas;
}

function fmt(v: number): string {
  return String(Number(v.toFixed(2)));
}
