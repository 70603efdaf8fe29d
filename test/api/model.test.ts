/**
 * The inference API (loadRun, readImage) on a run trained here: metadata, seeded sampling,
 * the mean prediction against a decode of the prior mean computed by hand, no leaked tensors,
 * and readImage's crop against pixel values known in advance.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRun, readImage, UserError, writePng, type PunetModel } from '../../index.js';
import { runInProcess, tempDir, TINY_SPEC } from '../cli/helpers.js';

let model: PunetModel;
let images: Float32Array[];

beforeAll(async () => {
  const runDir = join(tempDir(), 'run');
  const trained = await runInProcess(() => import('../../runtime/cli/commands/compile-and-train.js'), [TINY_SPEC, '--steps', '2', '--out', runDir]);
  expect(trained.code, trained.stderr).toBe(0);
  model = await loadRun(runDir, { checkpoint: 'last' });
  // Two deterministic 16x16 test images: a bright disc and a gradient.
  images = [0, 1].map((k) => Float32Array.from({ length: 256 }, (_, i) => (k === 0 ? (Math.hypot((i % 16) - 8, Math.floor(i / 16) - 8) < 5 ? 0.9 : 0.1) : (i % 16) / 15)));
}, 120_000);

describe('loadRun', () => {
  it('reports the run: spec, checkpoint, step, input size, classes, latent shape', () => {
    expect(model.spec.model).toBe('cli-tiny');
    expect(model.checkpoint).toBe('last');
    expect(model.step).toBe(2);
    expect(model.inputSize).toEqual([16, 16]);
    expect(model.channels).toBe(1);
    expect(model.classes).toBe(2);
    expect(model.latentShape).toEqual([2]);
  });

  it('sample: n masks per image, the same seed gives the same samples, another seed others', async () => {
    const before = tf.memory().numTensors;
    const a = await model.sample(images, 6, { seed: 5 });
    const b = await model.sample([...images], 6, { seed: 5 });
    const c = await model.sample(images, 6, { seed: 6 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toHaveLength(2);
    expect(a[0]!.masks).toHaveLength(6);
    expect(a[0]!.masks[0]).toHaveLength(256);
    expect(b[1]!.foreground).toEqual(a[1]!.foreground);
    expect(c[1]!.foreground).not.toEqual(a[1]!.foreground);
  });

  it('predictMean is the argmax of decode(prepare(images), prior mean)', async () => {
    const [mean] = await model.predictMean(images[1]!);
    const prepared = model.prepare(images[1]!);
    const logits = tf.tidy(() => model.decode(prepared, tf.expandDims(prepared.prior.mean(), 1)));
    prepared.dispose();
    const [, , h, w, k] = logits.shape;
    expect([h, w, k]).toEqual([16, 16, 2]);
    const values = await logits.data();
    logits.dispose();
    const expected = Uint8Array.from({ length: 256 }, (_, p) => (values[2 * p + 1]! > values[2 * p]! ? 1 : 0));
    expect(mean!.masks).toHaveLength(1);
    expect(Array.from(mean!.masks[0]!)).toEqual(Array.from(expected));
  });

  it('images of the wrong size are refused with the expected size', async () => {
    await expect(model.sample(new Float32Array(100), 1)).rejects.toThrow(/whole 16x16x1 images \(256 values each\); got 100/);
  });

  it('a folder that is not a run is a UserError naming it', async () => {
    const dir = tempDir();
    await expect(loadRun(dir, { backend: 'cpu' })).rejects.toThrow(UserError);
    await expect(loadRun(dir, { backend: 'cpu' })).rejects.toThrow(/is not a punet run folder \(no spec\.json\)/);
  });
});

describe('readImage', () => {
  // 30 x 20 gray image, value 8 * column: the centred 20 x 20 crop starts at column 5.
  const file = join(tempDir(), 'wide.png');
  writePng(file, { width: 30, height: 20, channels: 1, data: Uint8Array.from({ length: 600 }, (_, i) => 8 * (i % 30)) });

  it("crops the centred square as import does and scales to [0, 1]", () => {
    const img = readImage(file);
    expect([img.width, img.height, img.channels]).toEqual([20, 20, 1]);
    for (const [x, y] of [[0, 0], [19, 7], [10, 19]] as const) expect(img.data[y * 20 + x]).toBeCloseTo((8 * (x + 5)) / 255, 6);
  });

  it("crop 'none' keeps the whole image; size resizes; channels 3 repeats gray", () => {
    const whole = readImage(file, { crop: 'none', channels: 3 });
    expect([whole.width, whole.height, whole.channels]).toEqual([30, 20, 3]);
    expect(Array.from(whole.data.slice(3 * 29, 3 * 30))).toEqual(Array(3).fill(Math.fround((8 * 29) / 255)));
    const small = model.readImage(file);
    expect([small.width, small.height, small.data.length]).toEqual([16, 16, 256]);
  });
});
