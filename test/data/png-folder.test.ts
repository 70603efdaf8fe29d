import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePng } from '../../runtime/data/png.js';
import { readPngFolder } from '../../runtime/data/png-folder.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punet-pngfolder-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const W = 4;
const H = 3;
const opts = { height: H, width: W, channels: 1, classes: 2, seed: 0 };

function gray(values: number[], width = W, height = H) {
  return { width, height, channels: 1 as const, data: Uint8Array.from(values) };
}

/** An item folder with a ramp image and the given masks (each a list of 12 byte values). */
function writeItem(id: string, masks: number[][], image = gray(Array.from({ length: W * H }, (_, i) => i * 20))) {
  mkdirSync(join(dir, id), { recursive: true });
  writePng(join(dir, id, 'image.png'), image);
  masks.forEach((m, k) => writePng(join(dir, id, `annotation-${k}.png`), gray(m)));
}

const zeros = () => new Array<number>(W * H).fill(0);
const oneAt = (p: number, value = 1) => zeros().map((_, i) => (i === p ? value : 0));

describe('png-folder', () => {
  it('reads images, masks (class ids and 0/255) in natural annotation order', () => {
    mkdirSync(join(dir, 'b'));
    writePng(join(dir, 'b', 'image.png'), gray(zeros()));
    // 11 annotations: annotation-10 must come after annotation-2 (natural order).
    for (let k = 0; k <= 10; k++) writePng(join(dir, 'b', `annotation-${k}.png`), gray(oneAt(k, 255)));
    writeItem('a', [oneAt(0), oneAt(5)]);
    const ds = readPngFolder(dir, opts);
    expect(ds.items.map((i) => i.id)).toEqual(['a', 'b']);
    const a = ds.items[0]!;
    expect(a.image[3]).toBeCloseTo(60 / 255, 6);
    expect(Array.from(a.annotations[1]!)).toEqual(oneAt(5));
    const b = ds.items[1]!;
    expect(b.annotations).toHaveLength(11);
    b.annotations.forEach((mask, k) => expect(Array.from(mask)).toEqual(oneAt(k))); // 255 -> 1
    expect([ds.height, ds.width, ds.channels, ds.classes]).toEqual([H, W, 1, 2]);
    expect([...ds.splits.train, ...ds.splits.val, ...ds.splits.test].sort()).toEqual([0, 1]);
  });

  it('converts RGB images to gray (luma) for a 1-channel spec and repeats gray for 3 channels', () => {
    mkdirSync(join(dir, 'x'));
    const rgb = new Uint8Array(W * H * 3);
    rgb[0] = 100; // first pixel: pure red 100 -> luma round(0.299 * 100) = 30
    writePng(join(dir, 'x', 'image.png'), { width: W, height: H, channels: 3, data: rgb });
    writePng(join(dir, 'x', 'annotation-0.png'), gray(zeros()));
    expect(readPngFolder(dir, opts).items[0]!.image[0]).toBeCloseTo(30 / 255, 6);
    writeItem('y', [zeros()], gray(oneAt(0, 200)));
    const three = readPngFolder(dir, { ...opts, channels: 3 });
    const y = three.items[1]!;
    expect(Array.from(y.image.subarray(0, 3)).map((v) => Math.round(v * 255))).toEqual([200, 200, 200]);
  });

  it('uses splits.json lists and groups, and checks them', () => {
    for (const id of ['p1-a', 'p1-b', 'p2-a', 'p3-a']) writeItem(id, [zeros()]);
    const groups = { 'p1-a': 'p1', 'p1-b': 'p1', 'p2-a': 'p2', 'p3-a': 'p3' };
    writeFileSync(join(dir, 'splits.json'), JSON.stringify({ train: ['p1-a', 'p1-b'], val: ['p2-a'], test: ['p3-a'], groups }));
    const ds = readPngFolder(dir, opts);
    expect(ds.splits).toEqual({ train: [0, 1], val: [2], test: [3] });
    expect(ds.items.map((i) => i.group)).toEqual(['p1', 'p1', 'p2', 'p3']);

    writeFileSync(join(dir, 'splits.json'), JSON.stringify({ train: ['p1-a'], val: ['p1-b', 'p2-a'], test: ['p3-a'], groups }));
    expect(() => readPngFolder(dir, opts)).toThrow(/puts group "p1" in both "train" and "val"/);
    writeFileSync(join(dir, 'splits.json'), JSON.stringify({ train: ['p1-a', 'p1-b', 'nope'], val: ['p2-a'], test: ['p3-a'] }));
    expect(() => readPngFolder(dir, opts)).toThrow(/lists "nope" in "train", but .* has no folder "nope"/);
    writeFileSync(join(dir, 'splits.json'), JSON.stringify({ train: ['p1-a', 'p1-b'], test: ['p3-a'] }));
    expect(() => readPngFolder(dir, opts)).toThrow(/does not list p2-a in any split/);
    // Groups only: the seeded splitter keeps p1's two items together.
    writeFileSync(join(dir, 'splits.json'), JSON.stringify({ groups }));
    const seeded = readPngFolder(dir, opts);
    const splitOf = (i: number) => (['train', 'val', 'test'] as const).find((s) => seeded.splits[s].includes(i));
    expect(splitOf(0)).toBe(splitOf(1));
  });

  it('names the file on wrong sizes, bad values, unreadable PNGs and missing parts', () => {
    writeItem('ok', [zeros()]);
    mkdirSync(join(dir, 'big'));
    writePng(join(dir, 'big', 'image.png'), gray(new Array(5 * 5).fill(0), 5, 5));
    writePng(join(dir, 'big', 'annotation-0.png'), gray(new Array(5 * 5).fill(0), 5, 5));
    expect(() => readPngFolder(dir, opts)).toThrow(/big[\\/]image\.png is 5x5 .* input\.size is \[3, 4\]/);
    rmSync(join(dir, 'big'), { recursive: true });

    writeItem('multi', [oneAt(2, 7)]);
    expect(() => readPngFolder(dir, { ...opts, classes: 3 })).toThrow(/multi[\\/]annotation-0\.png holds the value 7, but the spec has 3 classes/);
    rmSync(join(dir, 'multi'), { recursive: true });

    mkdirSync(join(dir, 'broken'));
    writeFileSync(join(dir, 'broken', 'image.png'), 'not a png');
    writePng(join(dir, 'broken', 'annotation-0.png'), gray(zeros()));
    expect(() => readPngFolder(dir, opts)).toThrow(/broken[\\/]image\.png is not a readable PNG/);
    rmSync(join(dir, 'broken'), { recursive: true });

    mkdirSync(join(dir, 'lonely'));
    writePng(join(dir, 'lonely', 'image.png'), gray(zeros()));
    expect(() => readPngFolder(dir, opts)).toThrow(/lonely has no annotation-\*\.png/);
    rmSync(join(dir, 'lonely'), { recursive: true });

    expect(() => readPngFolder(join(dir, 'missing'), opts)).toThrow(/missing is not a folder/);
    writeFileSync(join(dir, 'splits.json'), '{ nope');
    expect(() => readPngFolder(dir, opts)).toThrow(/splits\.json is not valid JSON/);
  });
});
