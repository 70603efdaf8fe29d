/**
 * Real intensities: 16-bit PNGs holding 12-bit data (like the BU-BIL-style microscopy set of
 * issue 15) imported through the `punet` binary keep their precision: the stored values span
 * [0, 1] with hundreds of levels instead of landing in 0..16 of 255. Checked against the raw
 * samples the test wrote, with independent percentile and window arithmetic.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readDataset } from '../../runtime/data/store.js';
import { readPng } from '../../runtime/data/png.js';
import { exited, spawnPunet } from '../cli/helpers.js';
import { gray16Png, rectMask, tempDir } from './import-helpers.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

const SIDE = 16;
const ANNOTATORS = ['Person1_Amira', 'Person2_ImageJ'];
/** 12-bit values: a background level plus a ramp, different per image, up to 3900 of 4095. */
const value = (i: number) => (x: number, y: number) => 300 + 100 * i + Math.round(((x + SIDE * y) / (SIDE * SIDE - 1)) * (3000 + 100 * i));

function source(root: string, images: number): string {
  const src = join(root, 'src');
  for (let i = 0; i < images; i++) {
    gray16Png(join(src, 'RawImages', `B0${i}.png`), SIDE, SIDE, value(i));
    for (const a of ANNOTATORS) rectMask(join(src, 'ExpertsAnnotations', a, `seg_B0${i}.png`), SIDE, SIDE, { x0: 4, y0: 4, x1: 12, y1: 12 }, 0, 255);
  }
  return src;
}

async function punetImport(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnPunet(['import', ...args]);
  const { code } = await exited(child);
  return { ...child.output(), code };
}

/** Nearest-rank percentile, written independently of runtime/data/normalize.ts. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

describe('import of 16-bit images holding 12-bit data', () => {
  it('keeps the precision: the default dataset window maps the 0.5-99.5 % range to [0, 1]', async () => {
    const root = tempDir('import-16');
    roots.push(root);
    const src = source(root, 4);
    expect(readPng(join(src, 'RawImages/B00.png'), { highDepth: true }).data[SIDE * SIDE - 1]).toBe(value(0)(SIDE - 1, SIDE - 1));
    const out = join(root, 'ds');
    // --size 16 and --crop none: no resampling, so the stored values are the raw samples windowed.
    const r = await punetImport([src, '--out', out, '--size', String(SIDE), '--crop', 'none']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/intensity:\s+16-bit x4 files, values 300\.\.3900 of 0\.\.65535 \(12 bits used, mean [\d.]+, std [\d.]+\); 0\.5-99\.5 percentile window over the dataset/);

    const raw = [0, 1, 2, 3].flatMap((i) => Array.from({ length: SIDE * SIDE }, (_, p) => value(i)(p % SIDE, Math.floor(p / SIDE))));
    const [low, high] = [percentile(raw, 0.5), percentile(raw, 99.5)];
    const json = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(json).toMatchObject({ version: 2, annotators: ANNOTATORS, intensity: { bitDepths: { 16: 4 }, maxValue: 65535, range: [300, 3900], bitsUsed: 12, mode: 'dataset', window: [low, high] } });
    expect(json.provenance.report.intensity.window).toEqual([low, high]);
    const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
    expect(json.intensity.mean).toBeCloseTo(mean, 2);
    expect(json.intensity.std).toBeCloseTo(Math.sqrt(raw.reduce((a, v) => a + (v - mean) ** 2, 0) / raw.length), 2);

    const ds = readDataset(out);
    const stored = ds.items.flatMap((it) => Array.from(it.image));
    expect(Math.min(...stored)).toBe(0);
    expect(Math.max(...stored)).toBe(1);
    expect(new Set(stored.map((v) => Math.round(v * 65535))).size).toBeGreaterThan(800); // 1024 pixels; the old 8-bit path left ~16 grey levels
    const item = ds.items.find((it) => it.id === 'B02')!;
    for (const p of [0, 37, 128, 255]) {
      const want = Math.min(1, Math.max(0, (value(2)(p % SIDE, Math.floor(p / SIDE)) - low) / (high - low)));
      expect(item.image[p]).toBeCloseTo(want, 4);
    }
  });

  it('--intensity image windows each image; --intensity none keeps the full 16-bit scale without crushing', async () => {
    const root = tempDir('import-16b');
    roots.push(root);
    const src = source(root, 2);
    const perImage = await punetImport([src, '--out', join(root, 'img'), '--size', String(SIDE), '--crop', 'none', '--intensity', 'image', '--percentiles', '0,100']);
    expect(perImage.code).toBe(0);
    expect(perImage.stdout).toMatch(/0-100 percentile window per image \(low 300\.\.400, high 3300\.\.3500\)/);
    for (const it of readDataset(join(root, 'img')).items) {
      expect(Math.min(...it.image)).toBe(0);
      expect(Math.max(...it.image)).toBe(1);
    }
    const full = await punetImport([src, '--out', join(root, 'none'), '--size', String(SIDE), '--crop', 'none', '--intensity', 'none']);
    expect(full.code).toBe(0);
    const b1 = readDataset(join(root, 'none')).items.find((it) => it.id === 'B01')!;
    expect(b1.image[SIDE * SIDE - 1]).toBeCloseTo(value(1)(SIDE - 1, SIDE - 1) / 65535, 4);
    expect(new Set(Array.from(b1.image, (v) => Math.round(v * 65535))).size).toBe(SIDE * SIDE); // every level kept
  });

  it('rejects a bad --intensity or --percentiles with a one-line usage error', async () => {
    const bad = await punetImport(['src', '--out', 'x', '--percentiles', '99,1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--percentiles must be two percentiles LO,HI/);
    const mode = await punetImport(['src', '--out', 'x', '--intensity', 'max']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(/--intensity must be one of dataset, image, none/);
  });
});
