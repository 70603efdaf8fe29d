import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset } from '../../runtime/data/import/run.js';
import { readDataset } from '../../runtime/data/store.js';
import { DataError } from '../../runtime/data/errors.js';
import { UserError } from '../../runtime/cli/errors.js';
import { expectedMask, grayPng, options, rectMask, rgbPng, tempDir, type Rect } from './import-helpers.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function fresh(): string {
  const r = tempDir('import-folders');
  roots.push(r);
  return r;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

const A: Rect = { x0: 4, y0: 2, x1: 8, y1: 6 };

/** BU-BIL-like: RawImages + ExpertsAnnotations/<annotator>/seg_<id>.png, black = foreground, mixed case. */
function buBilLike(root: string): void {
  grayPng(join(root, 'src/RawImages/a.png'), 16, 16, (x) => 10 * x);
  grayPng(join(root, 'src/RawImages/b.png'), 16, 16, (x, y) => 5 * y);
  rectMask(join(root, 'src/ExpertsAnnotations/ann1/seg_a.png'), 16, 16, A, 0, 255);
  rectMask(join(root, 'src/ExpertsAnnotations/ann2/Seg_A.png'), 16, 16, A, 0, 255); // mixed case
  rectMask(join(root, 'src/ExpertsAnnotations/ann1/seg_b.png'), 16, 16, null, 0, 255); // empty: one value
  rectMask(join(root, 'src/ExpertsAnnotations/ann2/seg_b.png'), 16, 16, { x0: 0, y0: 0, x1: 16, y1: 2 }, 0, 255);
  grayPng(join(root, 'src/GoldStandard/seg_a.png'), 16, 16, () => 0);
}

describe('import: folders layout', () => {
  it('imports a BU-BIL-like tree: names matched ignoring case, black foreground found by the border rule', () => {
    const root = fresh();
    buBilLike(root);
    const { report } = importDataset(join(root, 'src'), join(root, 'out'), options());
    expect(report).toMatchObject({ imagesFound: 2, annotators: ['ann1', 'ann2'], itemsWritten: 2, skipped: { count: 0 } });
    expect(report.notes.join('\n')).toMatch(/ignored folders: GoldStandard/);
    expect(report.notes.join('\n')).toMatch(/1 mask name\(s\) differ from the usual seg_<id>\.png.*ann2\/Seg_A\.png/);
    const ds = readDataset(join(root, 'out'));
    expect(ds).toMatchObject({ height: 8, width: 8, channels: 1, classes: 2 });
    const a = ds.items.find((i) => i.id === 'a')!;
    // 16 -> 8 nearest picks source 2o+1: fg x in [4,8) -> o in {2,3}; y in [2,6) -> o in {1,2}.
    const want = expectedMask(8, 8, { x0: 2, y0: 1, x1: 4, y1: 3 });
    expect(Array.from(a.annotations[0])).toEqual(want);
    expect(Array.from(a.annotations[1])).toEqual(want);
    // Image: ramp 10x downscaled by the triangle filter (see image-ops test): 7, 25, 45, ... per row.
    expect(Array.from(a.image.subarray(0, 8), (v) => Math.round(v * 255))).toEqual([7, 25, 45, 65, 85, 105, 125, 143]);
    const b = ds.items.find((i) => i.id === 'b')!;
    expect(Array.from(b.annotations[0])).toEqual(expectedMask(8, 8, null)); // empty annotation stays empty
    // ann2 marks the top two rows black: the border is mostly white, so black is foreground.
    expect(Array.from(b.annotations[1])).toEqual(expectedMask(8, 8, { x0: 0, y0: 0, x1: 8, y1: 1 }));
    expect(report.polarity).toEqual({ 'black (border)': 3, empty: 1 });
    // Provenance holds the report.
    expect((ds.provenance.report as { itemsWritten: number }).itemsWritten).toBe(2);
  });

  it('reads 0/1 label masks (white = 1 is foreground with --polarity white)', () => {
    const root = fresh();
    grayPng(join(root, 'src/images/x.png'), 8, 8, () => 100);
    rectMask(join(root, 'src/masks/r1/x.png'), 8, 8, { x0: 0, y0: 0, x1: 8, y1: 5 }, 1, 0); // fg covers most of the border
    const white = importDataset(join(root, 'src'), join(root, 'white'), options({ polarity: 'white' }));
    expect(Array.from(white.dataset.items[0].annotations[0])).toEqual(expectedMask(8, 8, { x0: 0, y0: 0, x1: 8, y1: 5 }));
    // auto would call the border's majority (value 1) background: the documented limit of the border rule.
    const auto = importDataset(join(root, 'src'), join(root, 'auto'), options());
    expect(Array.from(auto.dataset.items[0].annotations[0])).toEqual(expectedMask(8, 8, { x0: 0, y0: 5, x1: 8, y1: 8 }));
  });

  it('polarity white/black override the border rule; --threshold binarises grey masks', () => {
    const root = fresh();
    grayPng(join(root, 'src/images/x.png'), 8, 8, () => 100);
    // White-on-black mask, and a grey anti-aliased one.
    rectMask(join(root, 'src/masks/r1/x.png'), 8, 8, { x0: 1, y0: 1, x1: 3, y1: 3 }, 255, 0);
    grayPng(join(root, 'src/masks/r2/x_mask.png'), 8, 8, (x, y) => (x < 4 ? (y < 4 ? 255 : 200) : x === 4 ? 90 : 0));
    const auto = importDataset(join(root, 'src'), join(root, 'auto'), options({ threshold: 128 }));
    expect(auto.report.itemsWritten).toBe(1);
    const [m1, m2] = auto.dataset.items[0].annotations;
    expect(Array.from(m1)).toEqual(expectedMask(8, 8, { x0: 1, y0: 1, x1: 3, y1: 3 }));
    // Threshold 128: columns 0-3 (255 and 200) high, column 4 (90) low. Border is half high, half low
    // (tie) -> minority rule: 32 high vs 32 low -> high is foreground.
    expect(Array.from(m2)).toEqual(expectedMask(8, 8, { x0: 0, y0: 0, x1: 4, y1: 8 }));
    const black = importDataset(join(root, 'src'), join(root, 'black'), options({ threshold: 128, polarity: 'black' }));
    expect(Array.from(black.dataset.items[0].annotations[0])).toEqual(expectedMask(8, 8, { x0: 1, y0: 1, x1: 3, y1: 3 }).map((v) => 1 - v));
    // Without --threshold the grey mask has 4 values: skipped, and with it the only item: nothing to write.
    const err = thrown(() => importDataset(join(root, 'src'), join(root, 'none'), options()));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/no usable items.*1 non-binary mask/s);
    expect(err.message).toMatch(/x_mask\.png is not a binary mask: 4 distinct values \(0, 90, 200, 255\).*--threshold 128/);
    expect(existsSync(join(root, 'none'))).toBe(false);
  });

  it('crops a square around the union of all annotations plus the margin', () => {
    const root = fresh();
    grayPng(join(root, 'src/images/u.png'), 40, 20, (x, y) => x + 2 * y);
    const r1 = { x0: 10, y0: 6, x1: 14, y1: 10 };
    const r2 = { x0: 12, y0: 8, x1: 18, y1: 12 };
    rectMask(join(root, 'src/annotations/p/u.png'), 40, 20, r1, 255, 0);
    rectMask(join(root, 'src/annotations/q/u.png'), 40, 20, r2, 255, 0);
    // Union [10,18) x [6,12): 8 x 6, side 8 + 2*2 = 12 centred on (14, 9): x = 8, y = 3.
    const { dataset, report } = importDataset(join(root, 'src'), join(root, 'out'), options({ crop: 'union', margin: 2, size: 12 }));
    expect(report.crops).toEqual({ union: 1 });
    const item = dataset.items[0];
    expect(Array.from(item.annotations[0])).toEqual(expectedMask(12, 12, { x0: 2, y0: 3, x1: 6, y1: 7 }));
    expect(Array.from(item.annotations[1])).toEqual(expectedMask(12, 12, { x0: 4, y0: 5, x1: 10, y1: 9 }));
    expect(Math.round(item.image[0] * 255)).toBe(8 + 2 * 3); // pixel (8, 3) of the source
    // A huge margin is capped at the shorter side (20) and shifted inside the image: x = 14 - 10 = 4, y = 0.
    const big = importDataset(join(root, 'src'), join(root, 'big'), options({ crop: 'union', margin: 50, size: 20 }));
    expect(Math.round(big.dataset.items[0].image[0] * 255)).toBe(4);
  });

  it('center crop takes a centred square; colour images stay RGB unless --grayscale', () => {
    const root = fresh();
    rgbPng(join(root, 'src/images/c.png'), 10, 6, (x, y) => [x * 20, y * 40, 7]);
    rectMask(join(root, 'src/annotations/only/c.png'), 10, 6, { x0: 4, y0: 2, x1: 6, y1: 4 }, 255, 0);
    const rgb = importDataset(join(root, 'src'), join(root, 'rgb'), options({ crop: 'center', size: 6 }));
    expect(rgb.dataset.channels).toBe(3);
    // Centred 6x6 of a 10x6 image starts at x = 2: first pixel is (2, 0) = [40, 0, 7].
    expect(Array.from(rgb.dataset.items[0].image.subarray(0, 3), (v) => Math.round(v * 255))).toEqual([40, 0, 7]);
    expect(rgb.report.annotators).toEqual(['only']);
    const gray = importDataset(join(root, 'src'), join(root, 'gray'), options({ crop: 'center', size: 6, grayscale: true }));
    expect(gray.dataset.channels).toBe(1);
    expect(Math.round(gray.dataset.items[0].image[0] * 255)).toBe(Math.round(0.299 * 40 + 0.114 * 7));
  });

  describe('bad data', () => {
    function messy(root: string): void {
      buBilLike(root);
      writeFileSync(join(root, 'src/RawImages/c.png'), 'definitely not a png'); // corrupt image
      rectMask(join(root, 'src/ExpertsAnnotations/ann1/seg_c.png'), 16, 16, A, 0, 255);
      rectMask(join(root, 'src/ExpertsAnnotations/ann2/seg_c.png'), 16, 16, A, 0, 255);
      grayPng(join(root, 'src/RawImages/d.png'), 16, 16, () => 50); // ann2's mask has the wrong size
      rectMask(join(root, 'src/ExpertsAnnotations/ann1/seg_d.png'), 16, 16, A, 0, 255);
      rectMask(join(root, 'src/ExpertsAnnotations/ann2/seg_d.png'), 12, 16, A, 0, 255);
      grayPng(join(root, 'src/RawImages/e.png'), 16, 16, () => 50); // ann2 has no mask
      rectMask(join(root, 'src/ExpertsAnnotations/ann1/seg_e.png'), 16, 16, A, 0, 255);
      grayPng(join(root, 'src/RawImages/f.png'), 16, 16, () => 50); // a stray grey pixel
      grayPng(join(root, 'src/ExpertsAnnotations/ann1/seg_f.png'), 16, 16, (x, y) => (x === 3 && y === 3 ? 24 : x > 8 ? 0 : 255));
      rectMask(join(root, 'src/ExpertsAnnotations/ann2/seg_f.png'), 16, 16, A, 0, 255);
    }

    it('skips each bad item by default with a reason naming the file', () => {
      const root = fresh();
      messy(root);
      const { report, dataset } = importDataset(join(root, 'src'), join(root, 'out'), options());
      expect(report.imagesFound).toBe(6);
      expect(report.itemsWritten).toBe(2);
      expect(dataset.items.map((i) => i.id)).toEqual(['a', 'b']);
      expect(report.skipped.count).toBe(4);
      expect(report.skipped.byReason).toEqual({ 'missing annotator mask': 1, 'unreadable file': 1, 'mask size differs from image': 1, 'non-binary mask': 1 });
      const byId = Object.fromEntries(report.skipped.items.map((s) => [s.id, s.message]));
      expect(byId.c).toMatch(/RawImages\/c\.png is not a readable PNG/);
      expect(byId.d).toMatch(/ann2\/seg_d\.png is 12x16 but its image .*RawImages\/d\.png is 16x16/);
      expect(byId.e).toMatch(/annotator ann2 has no mask for image e\.png \(looked in .*ExpertsAnnotations\/ann2/);
      expect(byId.f).toMatch(/ann1\/seg_f\.png is not a binary mask: 3 distinct values \(0, 24, 255\); besides 255 and 0 it has 1 pixel of value 24/);
      expect(readDataset(join(root, 'out')).items).toHaveLength(2);
    });

    it('--strict fails on the first problem and writes nothing', () => {
      const root = fresh();
      messy(root);
      const err = thrown(() => importDataset(join(root, 'src'), join(root, 'out'), options({ strict: true })));
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toMatch(/annotator ann2 has no mask for image e\.png.*\n\(--strict stops at the first problem/s);
      expect(readdirSync(root)).toEqual(['src']); // no dataset, no temp folder
    });

    it('an empty source or one with no usable item is an error, not an empty dataset', () => {
      const root = fresh();
      grayPng(join(root, 'src/images/.keep.png'), 1, 1, () => 0); // hidden: ignored
      rectMask(join(root, 'src/masks/a/x.png'), 4, 4, null, 0, 255);
      expect(thrown(() => importDataset(join(root, 'src'), join(root, 'out'), options())).message).toMatch(/found no images in .*src for layout 'folders'/);
      expect(thrown(() => importDataset(join(root, 'nowhere'), join(root, 'out'), options())).message).toMatch(/cannot read folder .*nowhere: ENOENT/);
      grayPng(join(root, 'flat/stuff/x.png'), 4, 4, () => 0);
      expect(thrown(() => importDataset(join(root, 'flat'), join(root, 'out'), options())).message).toMatch(/has no images folder \(looked for RawImages, images.*pass --images NAME/);
      expect(existsSync(join(root, 'out'))).toBe(false);
    });
  });
});
