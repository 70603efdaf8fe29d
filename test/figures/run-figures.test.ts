import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Prepared, ProbabilisticSegmenter, Tensor } from '../../compiler/api.js';
import { readPng } from '../../runtime/data/png.js';
import type { Dataset } from '../../runtime/data/types.js';
import { getPixel } from '../../runtime/figures/canvas.js';
import { viridis } from '../../runtime/figures/colormap.js';
import { renderSampleGrid, sampleGridForItems, sampleGridRows, writeSampleGrid } from '../../runtime/figures/run-figures.js';
import { gridLayout } from '../../runtime/figures/sample-grid.js';
import { sampleGridSvg } from '../../runtime/figures/sample-grid-svg.js';
import { displayStretch } from '../../runtime/figures/tiles.js';
import { writePng } from '../../runtime/data/png.js';

// Counts how often the grid's panels are built: displayStretch runs once per row and build.
vi.mock('../../runtime/figures/tiles.js', async (original) => {
  const m = await original<typeof import('../../runtime/figures/tiles.js')>();
  return { ...m, displayStretch: vi.fn(m.displayStretch) };
});
import { tempDir } from './helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 4;
const W = 4;
function dataset(): Dataset {
  const items = [0, 1, 2].map((k) => ({
    id: `item-${k}`,
    group: `g${k}`,
    image: new Float32Array(H * W).fill(k / 2),
    annotations: [Uint8Array.from({ length: H * W }, (_, p) => (p === k ? 1 : 0)), new Uint8Array(H * W)],
  }));
  return { name: 'tiny', height: H, width: W, channels: 1, classes: 2, items, splits: { train: [0], val: [], test: [1, 2] }, provenance: {} };
}

describe('sample grids from dataset items', () => {
  it('rows carry the item image, its annotations and the samples with their soft maps', () => {
    const d = dataset();
    const samples = [{ masks: [new Uint8Array(16)], foreground: [new Float32Array(16).fill(0.25)] }, { masks: [new Uint8Array(16)], foreground: [] }];
    const rows = sampleGridRows(d, [2, 1], samples);
    expect(rows[0]!.image).toBe(d.items[2]!.image);
    expect(rows[0]!.annotations).toBe(d.items[2]!.annotations);
    expect(rows[0]!.probabilities).toBe(samples[0]!.foreground);
    expect(rows[1]!.probabilities).toBeUndefined();
    expect(() => sampleGridRows(d, [1], samples)).toThrow(/1 items but 2 sample sets/);
  });

  it('renderSampleGrid draws prior samples with one sample() call per batch and leaks nothing', async () => {
    const calls: number[] = [];
    // Prior samples where sample s of every image marks pixel s as foreground (soft p = 0.8 there, 0.1 elsewhere).
    const segmenter = {
      prepare: (images: Tensor): Prepared => ({ prior: {} as Prepared['prior'], dispose: () => undefined, batch: images.shape[0] }) as unknown as Prepared,
      sample: (prepared: Prepared, n: number) => {
        const B = (prepared as unknown as { batch: number }).batch;
        calls.push(B);
        return tf.tidy(() => {
          const fg = tf.tensor(Array.from({ length: B * n * H * W }, (_, i) => ((i % (H * W)) === Math.floor(i / (H * W)) % n ? 0.8 : 0.1)), [B, n, H, W, 1]);
          return tf.log(tf.concat([tf.sub(1, fg), fg], -1)); // logits whose softmax is (1 - fg, fg)
        });
      },
      decode: () => {
        throw new Error('unused');
      },
      trainForward: () => {
        throw new Error('unused');
      },
    } as unknown as ProbabilisticSegmenter;
    const before = tf.memory().numTensors;
    const fig = await renderSampleGrid(segmenter, dataset(), { items: [1, 2], n: 4, seed: 1, batchSize: 8, style: { scale: 2, gap: 1 } });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual([2]);
    // image + 2 annotations + 4 samples + annotator frequency, model frequency, entropy, std.
    const L = gridLayout(2, 11, 8, 8, 1, true);
    expect([fig.width, fig.height]).toEqual([L.width, L.height]);
    // Frequency of pixel 0: foreground only in sample 0 of 4 -> 1/4.
    const c = L.cell(0, 8);
    expect(getPixel(fig, c.x, c.y)).toEqual(viridis(0.25));
    // Std of the soft maps at pixel 0: values 0.8, 0.1, 0.1, 0.1 -> mean 0.275, std sqrt(0.091875).
    const s = L.cell(0, 10);
    expect(getPixel(fig, s.x, s.y)).toEqual(viridis(Math.sqrt((0.525 ** 2 + 3 * 0.175 ** 2) / 4), 0, 0.5));
  });

  it('writeSampleGrid writes an RGB PNG, creating the folder', () => {
    const file = join(tempDir(), 'deep', 'samples', 'sample-grid.png');
    const d = dataset();
    writeSampleGrid(file, d, [0], [{ masks: [d.items[0]!.annotations[0]!], foreground: [] }], { scale: 3 });
    const png = readPng(file);
    expect(png.channels).toBe(3);
    expect(png.width).toBe(gridLayout(1, 1 + 2 + 1 + 3, 12, 12, 2, true).width);
    // The SVG beside it: vector text in a real font, the item id as the row label, a colour bar per map.
    const svg = readFileSync(file.replace(/\.png$/, '.svg'), 'utf8');
    expect(svg).toMatch(/^<\?xml[^]*<svg [^>]*font-family="'DejaVu Sans'/);
    expect(svg).toContain(`>${d.items[0]!.id}</text>`);
    expect(svg.match(/fill="url\(#viridis\)"/g)).toHaveLength(3);
    expect(svg).toContain('Annotator frequency (share of annotators marking the pixel)');
  });

  it('writeSampleGrid builds the panels once and draws them twice: the same PNG and SVG as the separate renderers', () => {
    const dir = tempDir();
    const d = dataset();
    const samples = [1, 2].map((k) => ({ masks: [d.items[k]!.annotations[0]!, new Uint8Array(H * W)], foreground: [new Float32Array(H * W).fill(0.7), new Float32Array(H * W).fill(0.2)] }));
    vi.mocked(displayStretch).mockClear();
    writeSampleGrid(join(dir, 'grid.png'), d, [1, 2], samples, { scale: 3 });
    expect(vi.mocked(displayStretch)).toHaveBeenCalledTimes(2); // one per row, not one per row and format
    // independently: each format rendered from the rows on its own
    const options = { scale: 3, height: H, width: W, channels: 1, classes: 2, annotators: undefined, rowLabels: ['item-1', 'item-2'] };
    writePng(join(dir, 'alone.png'), sampleGridForItems(d, [1, 2], samples, { scale: 3 }));
    expect(readFileSync(join(dir, 'grid.png')).equals(readFileSync(join(dir, 'alone.png')))).toBe(true);
    expect(readFileSync(join(dir, 'grid.svg'), 'utf8')).toBe(sampleGridSvg(sampleGridRows(d, [1, 2], samples), options));
  });
});
