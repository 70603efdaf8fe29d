import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPixel, type RgbImage } from '../../runtime/figures/canvas.js';
import { viridis } from '../../runtime/figures/colormap.js';
import { GLYPH_ADVANCE, drawText, textWidth } from '../../runtime/figures/font.js';
import { columnLabels, gridLayout, sampleGridFigure, type SampleGridRow } from '../../runtime/figures/sample-grid.js';
import { decodePng, encodePng, writePng } from '../../runtime/data/png.js';
import { createCanvas } from '../../runtime/figures/canvas.js';

/** Set PUNET_FIGURE_PREVIEW=DIR to keep the figures the tests draw, for a look by eye. */
function preview(name: string, image: RgbImage): void {
  const dir = process.env.PUNET_FIGURE_PREVIEW;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writePng(join(dir, name), image);
}

/** An 8x8 test image: a bright disc on a dark gradient, and masks of the disc shifted by `dx`. */
function disc(h: number, w: number, dx: number, r = 2.5): Uint8Array {
  return Uint8Array.from({ length: h * w }, (_, p) => (Math.hypot((p % w) - (w / 2 + dx), Math.floor(p / w) - h / 2) <= r ? 1 : 0));
}
function image(h: number, w: number): Float32Array {
  const d = disc(h, w, 0);
  return Float32Array.from({ length: h * w }, (_, p) => (d[p] ? 0.9 : 0.1 + 0.3 * ((p % w) / w)));
}

function row(h: number, w: number, annotations: number, samples: number): SampleGridRow {
  return {
    image: image(h, w),
    annotations: Array.from({ length: annotations }, (_, k) => disc(h, w, k - 1)),
    samples: Array.from({ length: samples }, (_, k) => disc(h, w, (k % 3) - 1)),
  };
}

describe('sample grid geometry', () => {
  it('size = margins + header + rows x (tile + gap) + legend, hand-computed', () => {
    // 8x8 images at x4 -> 32-pixel tiles: too narrow for 2x text, so the font is 1x (7 px high).
    const fig = sampleGridFigure([row(8, 8, 2, 3), row(8, 8, 2, 3)], { height: 8, width: 8, channels: 1, classes: 2, scale: 4, gap: 2 });
    // Columns: image + 2 annotations + 3 samples + annotator frequency + frequency + entropy = 9.
    // width  = 2*4 (margins) + 9*32 + 8*2 = 312
    // height = 2*4 + header (7 + 6) + 2*32 + 1*2 + legend (7 + 8) = 8 + 13 + 66 + 15 = 102
    expect([fig.width, fig.height, fig.channels]).toEqual([312, 102, 3]);
    expect(fig.data.length).toBe(312 * 102 * 3);
  });

  it('32x32 at x4: 128-pixel tiles and 2x labels', () => {
    const L = gridLayout(3, 6, 128, 128, 2, true);
    // width = 8 + 6*128 + 5*2 = 786; height = 8 + (14 + 6) + 3*128 + 2*2 + (14 + 8) = 438
    expect([L.width, L.height, L.fontScale]).toEqual([786, 438, 2]);
    expect(L.cell(1, 2)).toEqual({ x: 4 + 2 * 130, y: 4 + 20 + 130 });
  });

  it('rows with fewer annotations or samples leave their cells blank; columns follow the longest row', () => {
    const fig = sampleGridFigure([row(8, 8, 1, 2), row(8, 8, 3, 4)], { height: 8, width: 8, channels: 1, classes: 2, scale: 2, gap: 1 });
    const L = gridLayout(2, 1 + 3 + 4 + 3, 16, 16, 1, true);
    expect([fig.width, fig.height]).toEqual([L.width, L.height]);
    // Row 0 has one annotation: its GT 2 cell (column 2) stays white.
    const { x, y } = L.cell(0, 2);
    for (let dy = 0; dy < 16; dy++) for (let dx = 0; dx < 16; dx++) expect(getPixel(fig, x + dx, y + dy)).toEqual([255, 255, 255]);
  });

  it('header names the columns', () => {
    expect(columnLabels(2, 3, ['frequency', 'entropy', 'std'])).toEqual(['IMAGE', 'GT 1', 'GT 2', 'S 1', 'S 2', 'S 3', 'FREQ', 'ENTROPY', 'STD']);
  });
});

describe('sample grid content', () => {
  const o = { height: 4, width: 4, channels: 1, classes: 2, scale: 3, gap: 2 } as const;
  // Foreground counts over 4 samples at pixel (0,0): 0; (0,1): 4; (0,2): 2; rest 0.
  const samples = [0, 1, 2, 3].map((k) => Uint8Array.from({ length: 16 }, (_, p) => (p === 1 || (p === 2 && k < 2) ? 1 : 0)));
  const fig = sampleGridFigure([{ image: new Float32Array(16).fill(0.5), annotations: [], samples }], { ...o, masks: 'binary' });
  const L = gridLayout(1, 1 + 4 + 2, 12, 12, 2, true);
  const at = (col: number, px: number, py: number) => {
    const { x, y } = L.cell(0, col);
    return getPixel(fig, x + px * 3 + 1, y + py * 3 + 1); // the middle of a 3x3 block
  };

  it('input in gray, binary samples white on black, nearest-neighbour upscaled', () => {
    expect(at(0, 0, 0)).toEqual([128, 128, 128]);
    expect(at(1, 1, 0)).toEqual([255, 255, 255]);
    expect(at(1, 0, 0)).toEqual([0, 0, 0]);
    const { x, y } = L.cell(0, 1);
    // All 9 pixels of the upscaled block of pixel (1, 0) are the same.
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) expect(getPixel(fig, x + 3 + dx, y + dy)).toEqual([255, 255, 255]);
  });

  it('frequency column: viridis of 0, 1 and 1/2; entropy column: 0, 0 and 1 bit', () => {
    const freq = 1 + 4;
    expect(at(freq, 0, 0)).toEqual(viridis(0));
    expect(at(freq, 1, 0)).toEqual(viridis(1));
    expect(at(freq, 2, 0)).toEqual(viridis(0.5));
    const ent = freq + 1;
    expect(at(ent, 0, 0)).toEqual(viridis(0));
    expect(at(ent, 1, 0)).toEqual(viridis(0));
    expect(at(ent, 2, 0)).toEqual(viridis(1));
  });

  it('writes a valid RGB PNG that decodes to the same pixels', () => {
    const back = decodePng(encodePng(fig), 'grid.png');
    expect([back.width, back.height, back.channels]).toEqual([fig.width, fig.height, 3]);
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(fig.data))).toBe(0);
  });

  it('soft probabilities add a std column; multi-class masks get palette colours', () => {
    const probs = samples.map((m) => Float32Array.from(m, (v) => (v ? 0.9 : 0.1)));
    const multi = [Uint8Array.from({ length: 16 }, (_, p) => p % 3)];
    const fig2 = sampleGridFigure(
      [{ image: new Float32Array(16).fill(0.5), annotations: multi, samples: multi, probabilities: [probs[0]!] }],
      { ...o, classes: 3, masks: 'binary' },
    );
    const L2 = gridLayout(1, 1 + 1 + 1 + 4, 12, 12, 2, true);
    expect([fig2.width, fig2.height]).toEqual([L2.width, L2.height]);
    const c = L2.cell(0, 1);
    // Pixel 1 is class 1, pixel 2 class 2: different colours, neither black nor white.
    const p1 = getPixel(fig2, c.x + 3 + 1, c.y + 1);
    const p2 = getPixel(fig2, c.x + 6 + 1, c.y + 1);
    expect(p1).not.toEqual(p2);
    for (const p of [p1, p2]) expect([[0, 0, 0], [255, 255, 255]]).not.toContainEqual(p);
    // A 3-class preview at 32x32: class 1 a disc, class 2 a band whose position varies by sample.
    const three = (shift: number) => Uint8Array.from(disc(32, 32, shift, 6), (v, p) => (v ? 1 : Math.abs((p % 32) - 24 - shift) < 3 ? 2 : 0));
    const fig3 = sampleGridFigure([{ image: image(32, 32), annotations: [three(0), three(2)], samples: [-2, 0, 2, 4].map(three) }], { height: 32, width: 32, channels: 1, classes: 3 });
    expect(fig3.width).toBe(gridLayout(1, 1 + 2 + 4 + 3, 128, 128, 2, true).width);
    preview('sample-grid-3class.png', fig3);
  });

  it('preview figure (32x32 x4, two rows, 4 annotators, 6 samples)', () => {
    const big = sampleGridFigure([row(32, 32, 4, 6), row(32, 32, 4, 6)].map((r, i) => ({ ...r, samples: r.samples.map((_, k) => disc(32, 32, (k % 3) * 3 - 3 + i, 7)), annotations: r.annotations.map((_, k) => disc(32, 32, k * 2 - 3, 7)), image: image(32, 32) })), {
      height: 32,
      width: 32,
      channels: 1,
      classes: 2,
    });
    expect([big.width, big.height]).toEqual([gridLayout(2, 1 + 4 + 6 + 3, 128, 128, 2, true).width, gridLayout(2, 14, 128, 128, 2, true).height]);
    preview('sample-grid.png', big);
  });
});

describe('bitmap font', () => {
  it('text width is 6 pixels per character less the trailing space, times the scale', () => {
    expect(textWidth('GT 1')).toBe(4 * GLYPH_ADVANCE - 1);
    expect(textWidth('GT 1', 2)).toBe(2 * (4 * GLYPH_ADVANCE - 1));
    expect(textWidth('')).toBe(0);
  });

  it('draws ink only inside the text box, and "I" exactly as its glyph', () => {
    const c = createCanvas(20, 10);
    drawText(c, 'I', 2, 1, [0, 0, 0]);
    const ink: string[] = [];
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) if (getPixel(c, x, y)[0] === 0) ink.push(`${x - 2},${y - 1}`);
    // 'I': top and bottom bars of 3 (columns 1-3), a stem in column 2: 3 + 5 + 3 = 11 pixels.
    expect(ink.length).toBe(11);
    expect(ink).toContain('1,0');
    expect(ink).toContain('2,3');
    expect(ink).toContain('3,6');
  });
});
