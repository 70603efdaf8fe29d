/**
 * decodeLatentGrid on the real compiled models (untrained weights are enough): the flat
 * Probabilistic U-Net and the hierarchical one, whose latent is all scales flattened.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProbabilisticSegmenter, Tensor } from '../../compiler/api.js';
import { compileModel } from '../../compiler/compile.js';
import { decodeLatentGrid } from '../../runtime/figures/latent-decode.js';
import { loadSpecOrFail } from '../../runtime/run/session.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function compiled(example: string) {
  const file = fileURLToPath(new URL(`../../examples/${example}`, import.meta.url));
  const { spec, registry } = await loadSpecOrFail(file, () => undefined);
  return { spec, model: compileModel(spec, registry, { seed: 5 }) };
}

/** Wraps a segmenter to count prepare/decode calls. */
function counting(s: ProbabilisticSegmenter) {
  const calls = { prepare: 0, decode: 0, zShape: [] as number[] };
  const wrapped: ProbabilisticSegmenter = {
    prepare: (images) => (calls.prepare++, s.prepare(images)),
    decode: (p, z) => {
      calls.decode++;
      calls.zShape = z.shape;
      return s.decode(p, z);
    },
    sample: (p, n, o) => s.sample(p, n, o),
    trainForward: (i, m, seed) => s.trainForward(i, m, seed),
  };
  return { wrapped, calls };
}

for (const example of ['prob-unet-tiny.punet', 'hierarchical-tiny.punet']) {
  describe(`latent grid on ${example}`, () => {
    it('one prepare, one decode of G*G latents; the centre point decodes like the prior mean; no leaks', async () => {
      const { spec, model } = await compiled(example);
      try {
        const [H, W] = spec.input.size;
        const C = spec.input.channels;
        const image = Float32Array.from({ length: H * W * C }, (_, i) => ((i * 37) % 101) / 100);
        const { wrapped, calls } = counting(model.segmenter);
        const before = tf.memory().numTensors;
        const grid = await decodeLatentGrid(wrapped, { image, height: H, width: W, channels: C, grid: 5, range: 2 });
        expect(tf.memory().numTensors).toBe(before);
        expect([calls.prepare, calls.decode]).toEqual([1, 1]);
        expect(calls.zShape).toEqual([1, 25, ...grid.eventShape]);
        expect(grid.masks).toHaveLength(25);
        expect(grid.mu.length).toBe(grid.eventShape.reduce((a, b) => a * b, 1));
        expect(grid.mu.length).toBeGreaterThanOrEqual(2);

        // Independently: decode the prior mean alone and compare with the grid's centre (t = 0, 0).
        const input = tf.tensor4d(image, [1, H, W, C]);
        const prepared = model.segmenter.prepare(input);
        const centre = tf.tidy(() => {
          const mean = tf.expandDims(prepared.prior.mean() as Tensor, 1);
          return tf.cast(tf.argMax(model.segmenter.decode(prepared, mean), -1), 'int32');
        });
        const expected = Uint8Array.from(await centre.data());
        tf.dispose([centre, input]);
        prepared.dispose();
        expect(Buffer.from(grid.masks[12]!).equals(Buffer.from(expected))).toBe(true);
      } finally {
        model.dispose();
      }
    }, 60_000);
  });
}
