/**
 * Small helpers for SVG figures: escaped text in a real font family, raster panels embedded at
 * their native resolution (drawn with crisp pixels at any zoom), and viridis colour bars.
 */
import { encodePng } from '../data/png.js';
import { blitScaled, createCanvas, type RgbImage } from './canvas.js';
import { VIRIDIS } from './colormap.js';

/** Font stack of every figure: DejaVu Sans ships with Debian and most TeX installs. */
export const FONT_FAMILY = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  /** Shrink the text (never stretch it) to at most this width. */
  maxWidth?: number;
  fill?: string;
}

/** Rough advance of DejaVu Sans (about 0.64 em per character, mixed case): enough to decide when to shrink. */
export function estimateTextWidth(text: string, size: number): number {
  return text.length * size * 0.64;
}

export function svgText(x: number, y: number, text: string, o: TextOptions = {}): string {
  const size = o.size ?? 12;
  const fit = o.maxWidth && estimateTextWidth(text, size) > o.maxWidth ? ` textLength="${o.maxWidth.toFixed(1)}" lengthAdjust="spacingAndGlyphs"` : '';
  return `<text x="${x}" y="${y}" font-size="${size}" text-anchor="${o.anchor ?? 'start'}"${o.weight === 'bold' ? ' font-weight="bold"' : ''}${o.fill ? ` fill="${o.fill}"` : ''}${fit}>${escapeXml(text)}</text>`;
}

/**
 * A panel as an embedded PNG shown at w x h. The data pixels are repeated (nearest neighbour,
 * integer factor) up to about the shown size: renderers that ignore image-rendering (librsvg,
 * some PDF converters) would otherwise blur them.
 */
export function svgRaster(x: number, y: number, w: number, h: number, tile: RgbImage): string {
  const k = Math.max(1, Math.round(w / tile.width));
  let shown = tile;
  if (k > 1) {
    shown = createCanvas(tile.width * k, tile.height * k);
    blitScaled(shown, tile, 0, 0, k);
  }
  const uri = `data:image/png;base64,${encodePng(shown).toString('base64')}`;
  return `<image x="${x}" y="${y}" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated;image-rendering:crisp-edges" href="${uri}"/>`;
}

/** The viridis gradient, once per document (`url(#viridis)`). */
export function viridisGradientDef(id = 'viridis'): string {
  const stops = Array.from({ length: 11 }, (_, i) => {
    const c = VIRIDIS[Math.round((i / 10) * (VIRIDIS.length - 1))]!;
    return `<stop offset="${i * 10}%" stop-color="rgb(${c[0]},${c[1]},${c[2]})"/>`;
  }).join('');
  return `<linearGradient id="${id}" x1="0" y1="0" x2="1" y2="0">${stops}</linearGradient>`;
}

/** A horizontal colour bar with its title above and min/max ticks below. */
export function colorBar(x: number, y: number, width: number, title: string, min: string, max: string, size = 11): string {
  const h = 10;
  return [
    svgText(x, y, title, { size }),
    `<rect x="${x}" y="${y + 4}" width="${width}" height="${h}" fill="url(#viridis)" stroke="#444" stroke-width="0.5"/>`,
    `<line x1="${x}" y1="${y + 4 + h}" x2="${x}" y2="${y + 7 + h}" stroke="#444" stroke-width="0.5"/>`,
    `<line x1="${x + width}" y1="${y + 4 + h}" x2="${x + width}" y2="${y + 7 + h}" stroke="#444" stroke-width="0.5"/>`,
    svgText(x, y + 8 + h + size, min, { size: size - 1 }),
    svgText(x + width, y + 8 + h + size, max, { size: size - 1, anchor: 'end' }),
  ].join('');
}

export function svgDocument(width: number, height: number, body: string[], defs: string[] = []): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}" fill="#1e1e1e">`,
    defs.length ? `<defs>${defs.join('')}</defs>` : '',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    `</svg>`,
    '',
  ].join('\n');
}
