import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, readdirSync, truncateSync, statSync, writeFileSync, readFileSync, mkdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, writeDataset } from '../../runtime/data/store.js';
import { DataError } from '../../runtime/data/errors.js';
import type { Dataset } from '../../runtime/data/types.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'punet-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** 3 items of 2x3 RGB, values k/255 so the uint8 round trip is exact. */
function smallDataset(): Dataset {
  const H = 2;
  const W = 3;
  const C = 3;
  const items = [0, 1, 2].map((n) => ({
    id: `img${n}`,
    group: `patient${n % 2}`,
    image: Float32Array.from({ length: H * W * C }, (_, i) => ((n * 50 + i * 7) % 256) / 255),
    annotations: Array.from({ length: n + 1 }, (_, a) => Uint8Array.from({ length: H * W }, (_, i) => (i + a + n) % 2)),
  }));
  return {
    name: 'tiny',
    height: H,
    width: W,
    channels: C,
    classes: 2,
    items: [
      ...items.slice(0, 2),
      { ...items[2], modes: [{ mask: Uint8Array.of(1, 1, 0, 0, 0, 0), probability: 0.25, label: 'top' }, { mask: new Uint8Array(6), probability: 0.75, label: 'empty' }] },
    ],
    splits: { train: [0, 2], val: [1], test: [] },
    provenance: { source: 'unit test', report: { skipped: 0 } },
  };
}

function expectDataError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DataError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('dataset store', () => {
  it('round-trips items, annotations, modes, splits and provenance', () => {
    const ds = smallDataset();
    const dir = join(root, 'out');
    writeDataset(dir, ds);
    expect(readdirSync(dir).sort()).toEqual(['dataset.json', 'images.bin', 'masks.bin', 'modes.bin']);
    expect(readdirSync(root)).toEqual(['out']); // no temp folder left behind
    // Blob sizes follow the documented layout: N*H*W*C uint16 image samples, (1+2+3)*H*W mask bytes.
    expect(statSync(join(dir, 'images.bin')).size).toBe(3 * 2 * 3 * 3 * 2);
    expect(statSync(join(dir, 'masks.bin')).size).toBe(6 * 6);
    const back = readDataset(dir);
    expect(back).toMatchObject({ name: 'tiny', height: 2, width: 3, channels: 3, classes: 2, provenance: ds.provenance });
    expect(back.splits).toEqual(ds.splits);
    back.items.forEach((item, i) => {
      const orig = ds.items[i];
      expect(item.id).toBe(orig.id);
      expect(item.group).toBe(orig.group);
      expect(Array.from(item.image).map((v) => Math.round(v * 255))).toEqual(Array.from(orig.image).map((v) => Math.round(v * 255)));
      expect(item.annotations.map((m) => Array.from(m))).toEqual(orig.annotations.map((m) => Array.from(m)));
    });
    expect(back.items[2].modes?.map((m) => [Array.from(m.mask), m.probability, m.label])).toEqual([
      [[1, 1, 0, 0, 0, 0], 0.25, 'top'],
      [[0, 0, 0, 0, 0, 0], 0.75, 'empty'],
    ]);
    // Items are views on one buffer per blob (one read per blob).
    expect(back.items[0].image.buffer).toBe(back.items[2].image.buffer);
    expect(back.items[0].annotations[0].buffer).toBe(back.items[2].annotations[2].buffer);
  });

  it('quantises image values to little-endian uint16 round(65535 v), clamped to [0, 1]', () => {
    const ds = smallDataset();
    ds.items[0].image[0] = 0.5; // 32767.5 rounds to 32768
    ds.items[0].image[1] = -3;
    ds.items[0].image[2] = 7;
    ds.items[0].image[3] = 1000 / 4095; // a 12-bit level keeps its own value
    const dir = join(root, 'q');
    writeDataset(dir, ds);
    const bytes = readFileSync(join(dir, 'images.bin'));
    const samples = [0, 1, 2, 3].map((i) => bytes.readUInt16LE(i * 2));
    expect(samples).toEqual([32768, 0, 65535, Math.round((1000 / 4095) * 65535)]);
    expect(readDataset(dir).items[0].image[3]).toBeCloseTo(1000 / 4095, 4);
  });

  it('still reads version-1 datasets (uint8 images)', () => {
    const dir = join(root, 'v1');
    writeDataset(dir, smallDataset());
    const json = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
    const v2 = readDataset(dir);
    const bytes = Uint8Array.from(v2.items.flatMap((it) => Array.from(it.image, (v) => Math.round(v * 255))));
    writeFileSync(join(dir, 'images.bin'), bytes);
    writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ ...json, version: 1 }));
    const v1 = readDataset(dir);
    expect(v1.items[1].image[4]).toBeCloseTo(bytes[1 * 18 + 4] / 255, 7);
    expect(Array.from(v1.items[2].image)).toEqual(Array.from(v2.items[2].image, (v) => Math.fround(Math.round(v * 255) / 255)));
  });

  it('detects truncated and over-long blobs, naming the file', () => {
    const dir = join(root, 't');
    writeDataset(dir, smallDataset());
    truncateSync(join(dir, 'masks.bin'), 10);
    expectDataError(() => readDataset(dir), /masks\.bin is truncated: expected 36 bytes, found 10/);
    writeDataset(dir, smallDataset(), { overwrite: true });
    appendFileSync(join(dir, 'images.bin'), Uint8Array.of(1));
    expectDataError(() => readDataset(dir), /images\.bin is longer than dataset\.json says: expected 108 bytes, found 109/);
  });

  it('explains folders that are not punet datasets', () => {
    expectDataError(() => readDataset(join(root, 'nope')), /nope is not a folder/);
    mkdirSync(join(root, 'plain'));
    expectDataError(() => readDataset(join(root, 'plain')), /plain is not a punet dataset \(no dataset\.json\).*punet import/);
    writeFileSync(join(root, 'plain', 'dataset.json'), '{"format":"something-else"}');
    expectDataError(() => readDataset(join(root, 'plain')), /not a punet dataset \(format is "something-else"/);
    writeFileSync(join(root, 'plain', 'dataset.json'), '{broken');
    expectDataError(() => readDataset(join(root, 'plain')), /dataset\.json is not valid JSON/);
  });

  it('rejects mask bytes that are not valid class ids', () => {
    const dir = join(root, 'c');
    writeDataset(dir, smallDataset());
    const masks = readFileSync(join(dir, 'masks.bin'));
    masks[5] = 9;
    writeFileSync(join(dir, 'masks.bin'), masks);
    expectDataError(() => readDataset(dir), /masks\.bin: byte 5 is class 9 but dataset\.json declares 2 classes/);
  });

  it('refuses to overwrite without the flag, and never replaces a folder that is not a dataset', () => {
    const dir = join(root, 'o');
    writeDataset(dir, smallDataset());
    expectDataError(() => writeDataset(dir, smallDataset()), /already exists.*--force/);
    const other = join(root, 'photos');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'precious');
    expectDataError(() => writeDataset(other, smallDataset(), { overwrite: true }), /not a punet dataset; refusing/);
    expect(readFileSync(join(other, 'keep.txt'), 'utf8')).toBe('precious');
    const changed = smallDataset();
    changed.name = 'renamed';
    writeDataset(dir, changed, { overwrite: true });
    expect(readDataset(dir).name).toBe('renamed');
    expect(readdirSync(root).sort()).toEqual(['o', 'photos']);
  });

  it('a failure while writing leaves neither a dataset nor a temp folder', () => {
    const ds = smallDataset();
    ds.items[1].annotations[0] = new Uint8Array(5); // wrong size: detected before anything lands
    expect(() => writeDataset(join(root, 'bad'), ds)).toThrow(/annotation 0 has 5 pixels, expected 6/);
    expect(readdirSync(root)).toEqual([]);
  });
});
