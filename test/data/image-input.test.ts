/**
 * `sample --image` / `latent-grid --image`: a new image prepared like the run's imported data
 * (crop rule, resize, the dataset's intensity window, input.normalize with the training
 * statistics), checked against the numbers import itself would produce.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { prepareImage } from '../../runtime/sample/image-input.js';
import type { Dataset } from '../../runtime/data/types.js';
import type { InputSpec } from '../../spec/types.js';
import { gray16Png, tempDir } from './import-helpers.js';

const root = tempDir('image-input');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function imported(options: Record<string, unknown>, extra: Partial<Dataset> = {}): Dataset {
  return {
    name: 'ds',
    height: 4,
    width: 4,
    channels: 1,
    classes: 2,
    items: [],
    splits: { train: [], val: [], test: [] },
    intensity: { bitDepths: { 16: 3 }, maxValue: 65535, range: [100, 4000], bitsUsed: 12, mean: 2000, std: 500, mode: 'dataset', percentiles: [0.5, 99.5], window: [1000, 3000] },
    provenance: { createdBy: 'punet import', options },
    ...extra,
  };
}
const input: InputSpec = { size: [4, 4], channels: 1, classes: 2 };

describe('prepareImage', () => {
  // 12 x 8 source; pixel value = 1000 + 100 * x (x = 0..11), so the centred 8x8 square holds x = 2..9.
  const file = join(root, 'wide.png');
  gray16Png(file, 12, 8, (x) => 1000 + 100 * x);

  it("union crop without annotations: the centred square, resized, in the dataset's window", () => {
    const { dataset, steps } = prepareImage(file, input, imported({ crop: 'union' }));
    expect(steps).toEqual([
      'read wide.png: 12x8, 1 channel(s), 16-bit',
      "crop: 8x8 at (2, 0): the import's union crop: without annotations it is the centred square, as import does",
      'resize: 8x8 -> 4x4 (bilinear, antialiased, as import)',
      "intensities: the dataset's window 1000..3000 -> 0..1",
    ]);
    // 8 -> 4 with the widened triangle filter: output column o averages source columns around 2o+1
    // (weights 1/8, 3/8, 3/8, 1/8 over 2o-1..2o+2, clamped at the edges), i.e. x = 2 + 2o + 0.5 inside.
    const row = Array.from(dataset.items[0]!.image.subarray(0, 4));
    const expected = [0, 1, 2, 3].map((o) => {
      const taps = [2 * o - 1, 2 * o, 2 * o + 1, 2 * o + 2].map((i, k) => ({ i, w: [1, 3, 3, 1][k]! })).filter((t) => t.i >= 0 && t.i < 8);
      const sum = taps.reduce((a, t) => a + t.w, 0);
      const raw = Math.round(taps.reduce((a, t) => a + t.w * (1000 + 100 * (t.i + 2)), 0) / sum);
      return Math.min(1, Math.max(0, (raw - 1000) / 2000));
    });
    row.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 5));
  });

  it('centre crop of --crop-size, and input.normalize dataset with the recorded training statistics', () => {
    const data = imported({ crop: 'center', cropSize: 4 }, { provenance: { createdBy: 'punet import', options: { crop: 'center', cropSize: 4 }, normalize: { mode: 'dataset', stats: { mean: [0.5], std: [0.25] } } } });
    const { dataset, steps } = prepareImage(file, { ...input, normalize: 'dataset' }, data);
    expect(steps[1]).toBe("crop: 4x4 at (4, 2): the import's centre crop of 4");
    expect(steps.map((s) => s.split(':')[0])).toEqual(['read wide.png', 'crop', 'intensities', 'normalize']); // no resize: already 4x4
    expect(steps[3]).toBe('normalize: dataset (training split mean 0.5000, std 0.2500)');
    // Pixel (0, 0) of the crop is source x = 4: raw 1400 -> (1400 - 1000) / 2000 = 0.2 -> (0.2 - 0.5) / 0.25.
    expect(dataset.items[0]!.image[0]).toBeCloseTo((0.2 - 0.5) / 0.25, 5);
  });

  it('normalize dataset without the run data is a clear error', () => {
    expect(() => prepareImage(file, { ...input, normalize: 'dataset' }, undefined)).toThrow(/input\.normalize is 'dataset' but the run's data .* could not be loaded/);
  });
});
