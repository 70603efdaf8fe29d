/**
 * Colour lookup tables for figures. Continuous maps (frequency, entropy, std) use viridis:
 * perceptually uniform, readable in gray and by most colour-blind readers. It is built here as a
 * 256-entry table by linear interpolation between 9 evenly spaced viridis key colours, which
 * stays within a couple of levels of the published map. Masks use a categorical palette.
 */
import type { Rgb } from './canvas.js';

/** Viridis at t = 0, 1/8, ..., 1. */
const VIRIDIS_KEYS: Rgb[] = [
  [0x44, 0x01, 0x54],
  [0x47, 0x2c, 0x7a],
  [0x3b, 0x51, 0x8b],
  [0x2c, 0x71, 0x8e],
  [0x21, 0x90, 0x8d],
  [0x27, 0xad, 0x81],
  [0x5c, 0xc8, 0x63],
  [0xaa, 0xdc, 0x32],
  [0xfd, 0xe7, 0x25],
];

function buildTable(keys: Rgb[], size = 256): Rgb[] {
  const table: Rgb[] = [];
  for (let i = 0; i < size; i++) {
    const pos = (i / (size - 1)) * (keys.length - 1);
    const k = Math.min(keys.length - 2, Math.floor(pos));
    const f = pos - k;
    const a = keys[k]!;
    const b = keys[k + 1]!;
    table.push([0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as unknown as Rgb);
  }
  return table;
}

export const VIRIDIS: readonly Rgb[] = buildTable(VIRIDIS_KEYS);

/** Colour of `value` on viridis over [min, max] (clamped; NaN shows as mid gray). */
export function viridis(value: number, min = 0, max = 1): Rgb {
  if (Number.isNaN(value)) return [128, 128, 128];
  const t = max > min ? (value - min) / (max - min) : 0;
  const i = Math.round(Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1));
  return VIRIDIS[i]!;
}

/**
 * Class colours: class 0 (background) is black; foreground classes get saturated, mutually
 * distinct colours (cycled past the table's end).
 */
const CLASS_COLORS: Rgb[] = [
  [255, 64, 32], // vermilion: the only colour a binary task uses
  [40, 170, 255],
  [60, 200, 70],
  [255, 210, 0],
  [200, 60, 230],
  [0, 210, 200],
  [255, 140, 0],
  [255, 100, 180],
  [150, 110, 60],
];

export function classColor(classId: number): Rgb {
  if (classId <= 0) return [0, 0, 0];
  return CLASS_COLORS[(classId - 1) % CLASS_COLORS.length]!;
}
