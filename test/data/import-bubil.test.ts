/**
 * The real BU-BIL dataset 1 (read-only, in shared/ beside the repository): import it through the CLI and check the
 * report states exactly what is on disk: 35 raw images, 10 expert annotator folders, the
 * GoldStandard folder ignored, 4 Person3_Amira masks spelled Seg_ instead of seg_, one image
 * (B02) of 1300x1030 instead of 1024x811, black-on-white masks, and one mask
 * (Person5_Amira/seg_B04.png) with a single stray pixel of grey 24, which is skipped by default.
 */
import { describe, it, expect, vi, afterAll } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../runtime/cli/commands/import.js';
import { runCommand } from '../../runtime/cli/main.js';
import * as importCommand from '../../runtime/cli/commands/import.js';
import { readDataset } from '../../runtime/data/store.js';
import type { ImportReport } from '../../runtime/data/import/run.js';
import { tempDir } from './import-helpers.js';

// shared/ lies beside the repository (for developers and CI alike).
const BU_BIL = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/bu-bil/ds1');
const root = tempDir('import-bubil');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe.skipIf(!existsSync(BU_BIL))('import: real BU-BIL DS1', () => {
  it('reports exactly what it found and writes a readable 128x128 dataset', async () => {
    const out = join(root, 'bubil');
    const { code, out: stdout } = await capture(() => run([BU_BIL, '--out', out, '--json']));
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ImportReport;
    expect(report.imagesFound).toBe(35);
    expect(report.annotators).toEqual(['Person1_Amira', 'Person1_ImageJ', 'Person2_Amira', 'Person2_ImageJ', 'Person3_Amira', 'Person3_ImageJ', 'Person4_Amira', 'Person4_ImageJ', 'Person5_Amira', 'Person5_ImageJ']);
    expect(report.itemsWritten).toBe(34);
    expect(report.skipped.count).toBe(1);
    expect(report.skipped.items[0]).toMatchObject({ id: 'B04', reason: 'non-binary mask' });
    expect(report.skipped.items[0].message).toContain('Person5_Amira/seg_B04.png is not a binary mask: 3 distinct values (0, 24, 255)');
    expect(report.notes).toContain('ignored folders: GoldStandard (neither the images folder RawImages nor the annotations folder ExpertsAnnotations)');
    expect(report.notes.find((n) => n.includes('Seg_'))).toMatch(/^4 mask name\(s\) differ from the usual seg_<id>\.png .*Person3_Amira\/Seg_B18\.png, Person3_Amira\/Seg_B24\.png, Person3_Amira\/Seg_B25\.png, Person3_Amira\/Seg_B31\.png$/);
    expect(report.sourceSizes).toEqual({ '1024x811': 33, '1300x1030': 1 });
    expect(report.polarity).toEqual({ 'black (border)': 340 });
    expect(report.crops).toEqual({ union: 34 });
    expect(report.splits.train + report.splits.val + report.splits.test).toBe(34);

    const ds = readDataset(out);
    expect(ds).toMatchObject({ height: 128, width: 128, channels: 1, classes: 2 });
    expect(ds.items).toHaveLength(34);
    expect(ds.items.every((i) => i.annotations.length === 10)).toBe(true);
    // Cells are the minority after the union crop but clearly present in every mask.
    const fractions = ds.items.flatMap((i) => i.annotations.map((m) => m.reduce((s, v) => s + v, 0) / m.length));
    expect(Math.min(...fractions)).toBeGreaterThan(0.02);
    expect(Math.max(...fractions)).toBeLessThan(0.6);
    expect((ds.provenance.report as ImportReport).itemsWritten).toBe(34);

    // Re-running into the same folder needs --force; the error is a clean message, no stack.
    const again = await capture(() => runCommand(importCommand, [BU_BIL, '--out', out]));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^punet: .*bubil already exists; choose another --out folder or pass --force/);
    expect(again.err).not.toMatch(/\n\s+at /);
  }, 240_000);
});

describe('import CLI arguments', () => {
  it('explains bad flags as usage errors', async () => {
    for (const [argv, message] of [
      [['src'], /--out DIR is required/],
      [['a', 'b', '--out', 'x'], /expected exactly one SRC, got 2/],
      [['src', '--out', 'x', '--layout', 'nifti'], /--layout must be one of folders, lidc-png, lidc-pickle, got 'nifti'/],
      [['src', '--out', 'x', '--split', '0.5,0.5'], /--split must be three fractions/],
      [['src', '--out', 'x', '--size', '0'], /--size must be a positive integer/],
      [['src', '--out', 'x', '--polarity', 'grey'], /--polarity must be one of auto, white, black/],
    ] as const) {
      const r = await capture(() => runCommand(importCommand, [...argv]));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    }
  });
});
