/**
 * Issue 14, cases 3, 5 and 8: data files that lie about their size, are not regular files, or
 * are malformed pickles; a lidc-png tree without its annotations.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePng, readPng } from '../../runtime/data/png.js';
import { scanLidcPickle } from '../../runtime/data/import/lidc-pickle.js';
import { pickle, type PyValue } from '../data/import-pickle-writer.js';
import { grayPng } from '../data/import-helpers.js';
import { expectRefusal, punet, tempDir } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('punet-harden-data-');
});

/** CRC-32 (PNG's chunk checksum), written out so the forged header is a valid PNG. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid 2x2 gray PNG whose IHDR then claims width x height (with a correct CRC): about 70 bytes. */
function pngClaiming(width: number, height: number): Uint8Array {
  const png = new Uint8Array(encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }));
  const view = new DataView(png.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(png.subarray(12, 29))); // CRC over "IHDR" + its 13 data bytes
  return png;
}

/** A one-item BU-BIL style folder tree whose image is `makeImage(path)`; returns its root. */
function foldersTree(name: string, makeImage: (path: string) => void): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'images'), { recursive: true });
  makeImage(join(root, 'images', 'a.png'));
  grayPng(join(root, 'annotations', 'ann1', 'a.png'), 8, 8, (x) => (x < 4 ? 0 : 255));
  return root;
}

describe('case 3: PNG readers check the header and read only regular files', () => {
  it('a 70-byte PNG declaring 20000x20000 is refused from its header, without allocating', () => {
    const file = join(dir, 'bomb.png');
    writeFileSync(file, pngClaiming(20000, 20000));
    const rss = process.memoryUsage().rss;
    expect(() => readPng(file)).toThrow(/declares 20000x20000 pixels, more than the limit of 67108864; shrink the image, or raise PUNET_MAX_IMAGE_PIXELS/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 2 ** 20);
  });

  it('import: a header bomb, an image linked to /dev/zero and a FIFO each end in one line, quickly', () => {
    const trees = [
      foldersTree('bomb', (p) => writeFileSync(p, pngClaiming(60000, 60000))),
      foldersTree('zero', (p) => symlinkSync('/dev/zero', p)),
      foldersTree('fifo', (p) => expect(spawnSync('mkfifo', [p]).status).toBe(0)),
    ];
    const messages = [/declares 60000x60000 pixels/, /a\.png is not a regular file \(a device, FIFO or socket\)/, /a\.png is not a regular file/];
    trees.forEach((root, i) => {
      const r = punet(['import', root, '--out', join(dir, `out-${i}`), '--strict'], { timeoutMs: 20_000 });
      expectRefusal(r, 1, messages[i]!);
    });
  });
});

/** An LIDC-pickle item: a 2x2 image and `masks` 2x2 masks. */
function item(masks: number): PyValue {
  const mask: PyValue = { ndarray: { dtype: 'u1', shape: [2, 2], values: [0, 1, 1, 0] } };
  return {
    dict: [
      ['image', { ndarray: { dtype: 'f4', shape: [2, 2], values: [0, 0.25, 0.5, 1] } }],
      ['masks', Array.from({ length: masks }, () => mask)],
      ['series_uid', '1.2.3'],
    ],
  };
}

function writePickle(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

describe('case 5: lidc-pickle', () => {
  it('a few hundred bytes of nested tuple keys (2^60 elements expanded) are refused at once', () => {
    // t0 = (); t_i = (t_{i-1}, t_{i-1}) through the memo; then {t_60: None}.
    const ops = [0x80, 4, 0x7d, 0x29, 0x71, 0, 0x30];
    for (let i = 1; i <= 60; i++) ops.push(0x68, i - 1, 0x32, 0x86, 0x71, i, 0x30);
    ops.push(0x68, 60, 0x4e, 0x73, 0x2e);
    const file = writePickle('tuples.pickle', Uint8Array.from(ops));
    expect(ops.length).toBeLessThan(500);
    const r = punet(['import', file, '--layout', 'lidc-pickle', '--out', join(dir, 'tuples-out')], { timeoutMs: 20_000 });
    expectRefusal(r, 1, /tuples\.pickle: a dict key is a tuple with more than 10000 elements/);
  });

  it('int and bytes keys are item ids, not a crash', () => {
    const file = writePickle('keys.pickle', pickle({ dict: [[7, item(4)], [Uint8Array.from(Buffer.from('LIDC-IDRI-0001_s.png')), item(4)]] }));
    const scan = scanLidcPickle(file);
    expect(scan.items.map((i) => i.id)).toEqual(['7', 'LIDC-IDRI-0001_s.png']);
    expect(scan.items[1]!.group).toBe('LIDC-IDRI-0001');
    expect(scan.items[0]!.load().masks).toHaveLength(4);
  });

  it('the grader count is the most common mask count: one item with 5 masks does not drop 8 with 4', () => {
    const entries: [PyValue, PyValue][] = Array.from({ length: 8 }, (_, i) => [`i${i}.png`, item(4)] as [PyValue, PyValue]);
    entries.push(['odd.png', item(5)], ['short.png', item(3)]);
    const scan = scanLidcPickle(writePickle('counts.pickle', pickle({ dict: entries })));
    expect(scan.annotators).toHaveLength(4);
    expect(scan.items.map((i) => i.id)).toEqual(entries.slice(0, 8).map(([k]) => k));
    expect(scan.issues.map((i) => [i.itemId, i.kind])).toEqual([
      ['odd.png', 'malformed item'],
      ['short.png', 'missing annotator mask'],
    ]);
  });

  it("a '>f4' (big-endian) image is read with the right values", () => {
    const values = [0, 0.25, 0.5, 1];
    const raw = new Uint8Array(16);
    values.forEach((v, i) => new DataView(raw.buffer).setFloat32(4 * i, v, false));
    const image: PyValue = { global: ['numpy.core.numeric', '_frombuffer'], args: [raw, { global: ['numpy', 'dtype'], args: ['>f4', false, true] }, { tuple: [2, 2] }, 'C'] };
    const bad = item(4) as { dict: [PyValue, PyValue][] };
    bad.dict[0] = ['image', image];
    const scan = scanLidcPickle(writePickle('bigendian.pickle', pickle({ dict: [['be.png', bad]] })));
    expect(Array.from(scan.items[0]!.load().image.data)).toEqual(values.map((v) => Math.round(v * 255)));
  });
});

describe('case 8: lidc-png without its annotations', () => {
  it('images without a gt/ folder are refused instead of writing a dataset with no annotations', () => {
    const root = join(dir, 'lidc-noannot');
    for (const s of [0, 1]) grayPng(join(root, 'images', 'LIDC-IDRI-0001', `z-${s}_c0.png`), 8, 8, (x, y) => x + y);
    const r = punet(['import', root, '--layout', 'lidc-png', '--out', join(dir, 'noannot-out')]);
    expectRefusal(r, 1, /found 2 image\(s\) but no grader masks .* copy the gt\/ folder next to images\//);
  });
});
