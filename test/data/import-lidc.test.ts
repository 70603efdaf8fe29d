import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset } from '../../runtime/data/import/run.js';
import { readDataset } from '../../runtime/data/store.js';
import { UnsafePickleError } from '../../runtime/data/import/pickle.js';
import { expectedMask, grayPng, options, rectMask, tempDir } from './import-helpers.js';
import { pickle, type PyValue } from './import-pickle-writer.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function fresh(): string {
  const r = tempDir('import-lidc');
  roots.push(r);
  return r;
}

/** Grader k marks a k+1 pixel wide square at the centre (grader 3 sees nothing), like LIDC's disagreement. */
const graderRect = (k: number) => (k === 3 ? null : { x0: 6 - k, y0: 6 - k, x1: 7 + k, y1: 7 + k });

/** DeepMind lidc_crops: <split>/images/<patient>/z-<z>_c0.png and <split>/gt/<patient>/z-<z>_c0_l<k>.png, 12x12 tiles. */
function lidcCrops(root: string, patients: Record<'train' | 'val' | 'test', string[]>, slicesPerPatient = 3): void {
  for (const [split, list] of Object.entries(patients)) {
    for (const patient of list) {
      for (let s = 0; s < slicesPerPatient; s++) {
        const name = `z-${100 + s}.5_c0`;
        grayPng(join(root, split, 'images', patient, `${name}.png`), 12, 12, (x, y) => 10 * x + y + s);
        for (let k = 0; k < 4; k++) rectMask(join(root, split, 'gt', patient, `${name}_l${k}.png`), 12, 12, graderRect(k), 255, 0);
      }
    }
  }
}

describe('import: lidc-png layout', () => {
  it('reads the lidc_crops tree: 4 graders, centre crop, source splits kept, grouped by patient', () => {
    const root = fresh();
    lidcCrops(root, { train: ['LIDC-IDRI-0001', 'LIDC-IDRI-0002'], val: ['LIDC-IDRI-0003'], test: ['LIDC-IDRI-0004'] });
    const { report, dataset } = importDataset(root, join(root, 'out'), options({ layout: 'lidc-png', polarity: 'white', crop: 'center', cropSize: 8, size: 8 }));
    expect(report).toMatchObject({ imagesFound: 12, annotators: ['l0', 'l1', 'l2', 'l3'], itemsWritten: 12, splits: { train: 6, val: 3, test: 3 } });
    expect(report.splitMethod).toBe('kept from the source split folders');
    const item = dataset.items.find((i) => i.id === 'LIDC-IDRI-0001/z-101.5_c0')!;
    expect(item.group).toBe('LIDC-IDRI-0001');
    // Centre 8x8 of a 12x12 tile starts at (2, 2): pixel value 10*2 + 2 + slice 1.
    expect(Math.round(item.image[0] * 255)).toBe(23);
    for (let k = 0; k < 4; k++) {
      const r = graderRect(k);
      expect(Array.from(item.annotations[k])).toEqual(expectedMask(8, 8, r && { x0: r.x0 - 2, y0: r.y0 - 2, x1: r.x1 - 2, y1: r.y1 - 2 }));
    }
    const back = readDataset(join(root, 'out'));
    expect(back.splits.val.map((i) => back.items[i].group)).toEqual(['LIDC-IDRI-0003', 'LIDC-IDRI-0003', 'LIDC-IDRI-0003']);
  });

  it('re-splits by patient with --split: no patient straddles splits, same seed same split', () => {
    const root = fresh();
    const patients = Array.from({ length: 10 }, (_, i) => `LIDC-IDRI-${String(i + 1).padStart(4, '0')}`);
    lidcCrops(root, { train: patients, val: [], test: [] });
    const run = (seed: number, out: string) =>
      importDataset(root, join(root, out), options({ layout: 'lidc-png', polarity: 'white', crop: 'center', size: 12, seed, split: { train: 0.6, val: 0.2, test: 0.2 } })).dataset;
    const a = run(1, 'a');
    const again = run(1, 'b');
    expect(again.splits).toEqual(a.splits);
    const splitOfGroup = new Map<string, string>();
    for (const name of ['train', 'val', 'test'] as const) {
      for (const i of a.splits[name]) {
        const g = a.items[i].group;
        expect(splitOfGroup.get(g) ?? name).toBe(name);
        splitOfGroup.set(g, name);
      }
    }
    expect(splitOfGroup.size).toBe(10);
    expect(a.splits.train.length + a.splits.val.length + a.splits.test.length).toBe(30);
    expect(a.splits.val.length).toBeGreaterThan(0);
    expect(a.splits.test.length).toBeGreaterThan(0);
  });

  it('flat variant (image and _l<k> masks side by side); a missing grader mask skips the item', () => {
    const root = fresh();
    for (const patient of ['P1', 'P2']) {
      grayPng(join(root, 'src', patient, 'series9', 'z-1_c0.png'), 12, 12, () => 60);
      for (let k = 0; k < 4; k++) {
        if (patient === 'P2' && k === 2) continue;
        rectMask(join(root, 'src', patient, 'series9', `z-1_c0_l${k}.png`), 12, 12, graderRect(k), 255, 0);
      }
    }
    const { report } = importDataset(join(root, 'src'), join(root, 'out'), options({ layout: 'lidc-png', polarity: 'white', crop: 'center', size: 12 }));
    expect(report).toMatchObject({ imagesFound: 2, itemsWritten: 1, skipped: { count: 1, byReason: { 'missing annotator mask': 1 } } });
    expect(report.skipped.items[0].message).toMatch(/grader l2 has no mask for .*P2\/series9\/z-1_c0\.png \(expected z-1_c0_l2\.png\)/);
  });
});

const f4 = (shape: number[], values: number[]): PyValue => ({ ndarray: { dtype: 'f4', shape, values } });

describe('import: lidc-pickle layout', () => {
  /** {key: {image, masks, series_uid}} as the PyTorch port stores it, 6x6 images. */
  function lidcPickle(items: [string, PyValue][]): Uint8Array {
    return pickle({ dict: items });
  }
  const image = Array.from({ length: 36 }, (_, i) => i / 35);
  const maskA = expectedMask(6, 6, { x0: 2, y0: 2, x1: 4, y1: 4 });
  const good = (series: string, masks: PyValue[] = [f4([6, 6], maskA), { ndarray: { dtype: 'u1', shape: [6, 6], values: maskA } }, { ndarray: { dtype: 'b1', shape: [6, 6], values: new Array(36).fill(0) } }, f4([6, 6], maskA)]) =>
    ({ dict: [['image', f4([6, 6], image)], ['masks', masks], ['series_uid', series]] }) as PyValue;

  it('imports items with float/uint8/bool masks; groups by patient from the key', () => {
    const root = fresh();
    const file = join(root, 'data_lidc.pickle');
    writeFileSync(file, lidcPickle([
      ['LIDC-IDRI-0001_z1.png', good('1.2.1')],
      ['LIDC-IDRI-0001_z2.png', good('1.2.1')],
      ['LIDC-IDRI-0002_z1.png', good('1.2.2')],
      ['LIDC-IDRI-0003_z1.png', { dict: [['image', f4([6, 6], image)], ['series_uid', 'x']] }],
    ]));
    const { report, dataset } = importDataset(file, join(root, 'out'), options({ layout: 'lidc-pickle', polarity: 'white', crop: 'center', size: 6 }));
    expect(report).toMatchObject({ imagesFound: 4, itemsWritten: 3, annotators: ['mask 0', 'mask 1', 'mask 2', 'mask 3'], skipped: { count: 1, byReason: { 'malformed item': 1 } } });
    expect(report.skipped.items[0].message).toMatch(/data_lidc\.pickle \["LIDC-IDRI-0003_z1\.png"\]: 'masks' is undefined, expected a list of numpy arrays/);
    const item = dataset.items[0];
    expect(dataset.items.map((i) => i.group)).toEqual(['LIDC-IDRI-0001', 'LIDC-IDRI-0001', 'LIDC-IDRI-0002']);
    expect(Array.from(item.image, (v) => Math.round(v * 255))).toEqual(image.map((v) => Math.round(v * 255)));
    expect(item.annotations.map((m) => Array.from(m))).toEqual([maskA, maskA, new Array(36).fill(0), maskA]);
  });

  it('non-binary float masks and missing graders are skipped; --strict stops', () => {
    const root = fresh();
    const file = join(root, 'p.pickle');
    const soft = maskA.map((v) => v * 0.5 + (v ? 0.5 : 0));
    soft[0] = 0.5;
    writeFileSync(file, lidcPickle([
      ['a', good('s1')],
      ['b', good('s2', [f4([6, 6], soft), f4([6, 6], maskA), f4([6, 6], maskA), f4([6, 6], maskA)])],
      ['c', good('s3', [f4([6, 6], maskA), f4([6, 6], maskA)])],
    ]));
    const { report } = importDataset(file, join(root, 'out'), options({ layout: 'lidc-pickle', polarity: 'white', crop: 'center', size: 6 }));
    expect(report.skipped.byReason).toEqual({ 'non-binary mask': 1, 'missing annotator mask': 1 });
    expect(report.skipped.items.find((s) => s.id === 'b')!.message).toMatch(/p\.pickle \["b"\] mask 0 is not a binary mask: 3 distinct values \(0, 128, 255\)/);
    expect(report.skipped.items.find((s) => s.id === 'c')!.message).toMatch(/has 2 masks, other items have 4/);
    expect(() => importDataset(file, join(root, 'strict'), options({ layout: 'lidc-pickle', polarity: 'white', crop: 'center', size: 6, strict: true }))).toThrow(/has 2 masks/);
    expect(existsSync(join(root, 'strict'))).toBe(false);
  });

  it('rejects a pickle that calls anything but the numpy constructors, writing nothing', () => {
    const root = fresh();
    const file = join(root, 'evil.pickle');
    const marker = join(root, 'pwned');
    writeFileSync(file, pickle({ dict: [['a', good('s1')], ['b', { global: ['os', 'system'], args: [`touch ${marker}`] }]] }));
    let caught: unknown;
    try {
      importDataset(file, join(root, 'out'), options({ layout: 'lidc-pickle', polarity: 'white', crop: 'center', size: 6 }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnsafePickleError);
    expect((caught as Error).message).toMatch(/evil\.pickle: refusing to load the pickle: it references os\.system/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(root, 'out'))).toBe(false);
    mkdirSync(join(root, 'dir.pickle'));
    expect(() => importDataset(join(root, 'dir.pickle'), join(root, 'out'), options({ layout: 'lidc-pickle' }))).toThrow(/is a folder; --layout lidc-pickle needs the \.pickle file/);
  });
});
