/**
 * A built-in 5x7 bitmap font (upper-case letters, digits, a few symbols), so PNG figures carry
 * labels without any system font. Lower-case text is drawn in upper case; unknown characters
 * as '?'. Each glyph is 7 rows of 5 columns ('#' = ink); glyphs are drawn on a 6-pixel pitch.
 */
import { setPixel, type Rgb, type RgbImage } from './canvas.js';

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character, in font pixels (glyph + one pixel of spacing). */
export const GLYPH_ADVANCE = 6;

const GLYPHS: Record<string, string> = {
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '-': '..... ..... ..... ##### ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '_': '..... ..... ..... ..... ..... ..... #####',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '^': '..#.. .#.#. #...# ..... ..... ..... .....',
  // Greek letters the latent figures need (mu, sigma).
  'μ': '..... #...# #...# #...# #..## ###.# #....',
  'σ': '..... ..... .#### #..#. #...# #...# .###.',
};

/** 7 rows of 5 booleans per character, parsed once. */
const BITMAPS = new Map<string, boolean[][]>(
  Object.entries(GLYPHS).map(([ch, rows]) => [ch, rows.split(' ').map((row) => [...row].map((p) => p === '#'))]),
);

function bitmapOf(ch: string): boolean[][] {
  return BITMAPS.get(ch) ?? BITMAPS.get(ch.toUpperCase()) ?? BITMAPS.get('?')!;
}

/** Whether `ch` has its own glyph (after upper-casing). */
export function hasGlyph(ch: string): boolean {
  return BITMAPS.has(ch) || BITMAPS.has(ch.toUpperCase());
}

/** Width in pixels of `text` at `scale` (no trailing spacing). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * GLYPH_ADVANCE - 1) * scale;
}

export function textHeight(scale = 1): number {
  return GLYPH_HEIGHT * scale;
}

/** Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale block. */
export function drawText(c: RgbImage, text: string, x: number, y: number, color: Rgb, scale = 1): void {
  let penX = x;
  for (const ch of text) {
    const rows = bitmapOf(ch);
    rows.forEach((row, gy) =>
      row.forEach((ink, gx) => {
        if (!ink) return;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) setPixel(c, penX + gx * scale + dx, y + gy * scale + dy, color);
      }),
    );
    penX += GLYPH_ADVANCE * scale;
  }
}

/** Cuts `text` so it fits in `maxWidth` pixels at `scale` (an ending '.' marks a cut). */
export function fitText(text: string, maxWidth: number, scale = 1): string {
  if (textWidth(text, scale) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 1 && textWidth(chars.join('') + '.', scale) > maxWidth) chars.pop();
  return chars.length > 1 ? chars.join('') + '.' : '';
}
