/**
 * End to end, the way a researcher with their own data uses punet: a BU-BIL-like folder of
 * images + one folder per annotator -> `punet import` -> `punet compile-and-train` on a spec whose
 * `dataset` data source points at the imported folder -> a run folder with eval.json, the sample
 * grid and the HTML report. Everything runs in this process through the CLI dispatcher (cpu
 * backend, 5 steps, 16x16 images), so the test stays well under a minute on a loaded machine.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { main } from '../../runtime/cli/main.js';
import { encodePng, readPng } from '../../runtime/data/png.js';
import { runInProcess, tempDir } from '../cli/helpers.js';

const SOURCE = 32; // source images are 32x32; imported at 16x16 (every other pixel)
const SIZE = 16;
const ANNOTATORS = ['PersonA_Amira', 'PersonA_ImageJ', 'PersonB_Amira'];
const IMAGES = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06'];

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
const inside = (r: Rect, x: number, y: number) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;

/** The cell of image i as annotator a drew it: the same cell, its right edge placed differently. */
function cellOf(i: number, a: number): Rect {
  const x0 = 6 + 2 * i;
  const y0 = 8 + 2 * (i % 3);
  return { x0, y0, x1: x0 + 10 + 2 * a, y1: y0 + 12 };
}

function png(path: string, f: (x: number, y: number) => number): void {
  const data = new Uint8Array(SOURCE * SOURCE);
  for (let y = 0; y < SOURCE; y++) for (let x = 0; x < SOURCE; x++) data[y * SOURCE + x] = f(x, y);
  writeFileSync(path, encodePng({ width: SOURCE, height: SOURCE, channels: 1, data }));
}

/**
 * BU-BIL's layout and its mess: RawImages/ + ExpertsAnnotations/<annotator>/seg_<id>.png, black
 * cells on white, one mask named `Seg_` (upper case), a GoldStandard folder that is not an
 * annotator, and an extra image B07 that one annotator did not segment (skipped by default).
 */
function writeSource(root: string): void {
  mkdirSync(join(root, 'RawImages'), { recursive: true });
  mkdirSync(join(root, 'GoldStandard'), { recursive: true });
  [...IMAGES, 'B07'].forEach((id, i) => {
    const cell = cellOf(i % IMAGES.length, 1);
    png(join(root, 'RawImages', `${id}.png`), (x, y) => (inside(cell, x, y) ? 200 : 60) + ((x * 7 + y * 3) % 11));
    png(join(root, 'GoldStandard', `seg_${id}.png`), (x, y) => (inside(cell, x, y) ? 0 : 255));
  });
  ANNOTATORS.forEach((annotator, a) => {
    const dir = join(root, 'ExpertsAnnotations', annotator);
    mkdirSync(dir, { recursive: true });
    [...IMAGES, 'B07'].forEach((id, i) => {
      if (id === 'B07' && a === 2) return; // the missing mask
      const name = id === 'B03' && a === 1 ? `Seg_${id}.png` : `seg_${id}.png`;
      png(join(dir, name), (x, y) => (inside(cellOf(i % IMAGES.length, a), x, y) ? 0 : 255));
    });
  });
}

/** The imported mask of image i, annotator a: nearest neighbour at half size samples source pixel 2o+1. */
function expectedImportedMask(i: number, a: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) out.push(inside(cellOf(i, a), 2 * x + 1, 2 * y + 1) ? 1 : 0);
  return out;
}

const SPEC = `# e2e: a tiny Probabilistic U-Net on the imported folder next to this spec.
model "e2e-tiny" {
  input { size: ${SIZE}x${SIZE} px  channels: 1  classes: 2 }
  architecture prob-unet
  unet unet { widths: [4, 8]  convs_per_block: 1 }
  prior conv-encoder { widths: [4, 8]  convs_per_block: 1  sees: image }
  posterior conv-encoder { widths: [4, 8]  convs_per_block: 1  sees: image+mask }
  latent gaussian { size: 2 }
  combiner fcomb { layers: 2  width: 4 }
  loss {
    reconstruction cross-entropy { reduction: sum-per-image }
    kl analytic
    objective weighted { beta: 1 }
  }
  eval { distance iou  samples: [1, 4]  metrics: [ged, hungarian-iou] }
  train {
    optimizer adam { lr: 1e-3 }
    data dataset { path: "./imported" }
    batch_size: 4
    steps: 5 steps
    seed: 7
    validate_every: 5 steps
    validate_samples: 2
    checkpoint_every: 5 steps
    backend: cpu
  }
}
`;

const command = (name: string) => async () => ({ summary: name, run: (argv: string[]) => main([name, ...argv]) });

describe('import -> compile-and-train -> eval and figures', () => {
  const work = tempDir('punet-e2e-');
  afterAll(() => {
    tf.disposeVariables();
    rmSync(work, { recursive: true, force: true });
  });

  it('turns a BU-BIL-like folder into a trained, evaluated run with figures and a report', async () => {
    const source = join(work, 'bu-bil-like');
    const imported = join(work, 'imported');
    writeSource(source);

    // 1. import: what it found, what it skipped and why.
    const imp = await runInProcess(command('import'), [source, '--out', imported, '--size', String(SIZE), '--crop', 'none', '--json']);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    const report = JSON.parse(imp.stdout);
    expect(report.imagesFound).toBe(7);
    expect(report.annotators).toEqual(ANNOTATORS);
    expect(report.itemsWritten).toBe(6);
    expect(report.skipped.count).toBe(1);
    expect(JSON.stringify(report.skipped.items)).toContain('B07');
    expect(report.notes.join('\n')).toContain('GoldStandard');
    expect(report.notes.join('\n')).toContain('Seg_B03.png');

    // The stored masks are the annotators' cells, black-on-white turned into class 1.
    const meta = JSON.parse(readFileSync(join(imported, 'dataset.json'), 'utf8'));
    expect([meta.height, meta.width, meta.channels, meta.classes]).toEqual([SIZE, SIZE, 1, 2]);
    expect(meta.items.map((it: { id: string }) => it.id)).toEqual(IMAGES);
    const masks = readFileSync(join(imported, 'masks.bin'));
    const pixels = SIZE * SIZE;
    IMAGES.forEach((_, i) =>
      ANNOTATORS.forEach((__, a) => {
        const offset = (i * ANNOTATORS.length + a) * pixels;
        expect([...masks.subarray(offset, offset + pixels)]).toEqual(expectedImportedMask(i, a));
      }),
    );
    const testIds = meta.items.filter((it: { split: string }) => it.split === 'test').map((it: { id: string }) => it.id);
    expect(testIds.length).toBeGreaterThan(0);

    // 2. compile-and-train on a spec that names the imported folder relative to itself.
    const specFile = join(work, 'e2e.punet');
    writeFileSync(specFile, SPEC);
    const runDir = join(work, 'run');
    const trained = await runInProcess(command('compile-and-train'), [specFile, '--out', runDir]);
    expect(trained.stderr).not.toMatch(/internal error/);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toContain(`data: imported, 6 images ${SIZE}x${SIZE}x1`);

    // 3. eval.json: every requested sample count scored on every test image, finite and in range.
    const evaluation = JSON.parse(readFileSync(join(runDir, 'eval.json'), 'utf8'));
    expect(evaluation.split).toBe('test');
    expect(evaluation.images).toBe(testIds.length);
    expect(evaluation.sampleCounts).toEqual([1, 4]);
    for (const n of ['1', '4']) {
      const ged = evaluation.results[n].ged;
      expect(Number.isFinite(ged.mean)).toBe(true);
      // GED with d = 1 - IoU: 2E[d(S,Y)] - E[d(S,S')] - E[d(Y,Y')] lies in [0, 2].
      expect(ged.mean).toBeGreaterThanOrEqual(0);
      expect(ged.mean).toBeLessThanOrEqual(2);
      expect(ged.images).toBe(testIds.length);
      const hm = evaluation.results[n]['hungarian-iou'].mean;
      expect(hm).toBeGreaterThanOrEqual(0);
      expect(hm).toBeLessThanOrEqual(1);
    }

    // 4. figures: the sample grid is a real PNG, one row per test image (plus header and legend).
    const gridFile = join(runDir, 'samples', 'sample-grid.png');
    expect(existsSync(gridFile)).toBe(true);
    const grid = readPng(gridFile);
    expect(grid.width).toBeGreaterThan(SIZE * (1 + ANNOTATORS.length + 16));
    expect(grid.height).toBeGreaterThan(SIZE * testIds.length);
    for (const id of testIds) expect(existsSync(join(runDir, 'samples', `${id}-image.png`))).toBe(true);
    // Its SVG twin names the annotators as the import found them and every row by its image id.
    const svg = readFileSync(join(runDir, 'samples', 'sample-grid.svg'), 'utf8');
    for (const name of ANNOTATORS) expect(svg).toContain(`>${name}</text>`);
    for (const id of testIds) expect(svg).toContain(`>${id}</text>`);

    // 5. the report: one self-contained page with the evaluation and the figures inlined.
    const page = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(page.slice(0, 200).toLowerCase()).toContain('<!doctype html');
    expect(page).toContain('e2e-tiny');
    expect(page).toContain('data:image/svg+xml;base64,'); // figures as their SVG twins
    expect(page).not.toMatch(/(src|href)="https?:/);
    expect(page).toContain(evaluation.results['4'].ged.mean.toFixed(4));
  });
});
