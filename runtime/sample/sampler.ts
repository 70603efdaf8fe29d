/**
 * Prior sampling: the U-Net features and the prior are computed once per batch of images
 * (`prepare`), then samples come from batched combiner passes (`sample`) that reuse them. Samples always come from the
 * PRIOR; the posterior is for training only.
 */
import * as tf from '@tensorflow/tfjs';
import type { Prepared, ProbabilisticSegmenter } from '../../compiler/api.js';
import type { Dataset } from '../data/types.js';
import { assembleBatch } from '../train/batches.js';
import { tfSeed } from '../train/rng.js';

export interface ImageSamples {
  /** n hard masks (argmax class per pixel), H*W each. */
  masks: Uint8Array[];
  /** n foreground-probability maps (1 - p(background)), H*W each. */
  foreground: Float32Array[];
}

export interface SampleShape {
  batch: number;
  height: number;
  width: number;
  channels: number;
}

/** n prior samples for each image of a batch [B, H, W, C]: one `prepare`, one draw. */
export async function samplePrior(
  segmenter: ProbabilisticSegmenter,
  images: Float32Array,
  shape: SampleShape,
  n: number,
  seed: number,
  perScale?: Array<'sample' | 'mean'>,
): Promise<ImageSamples[]> {
  return withPrepared(segmenter, images, shape, (prepared) => drawPrepared(segmenter, prepared, shape, { n, seed, perScale }));
}

/** Runs `use` with the batch's prepared features (U-Net + prior pass), disposing them after. */
async function withPrepared<T>(
  segmenter: ProbabilisticSegmenter,
  images: Float32Array,
  shape: SampleShape,
  use: (prepared: Prepared) => Promise<T>,
): Promise<T> {
  const input = tf.tensor4d(images, [shape.batch, shape.height, shape.width, shape.channels]);
  try {
    const prepared = segmenter.prepare(input);
    try {
      return await use(prepared);
    } finally {
      prepared.dispose();
    }
  } finally {
    input.dispose();
  }
}

/** One draw: n samples per image with this noise seed. */
interface Draw {
  n: number;
  seed: number;
  perScale?: Array<'sample' | 'mean'>;
}

/** n prior samples per image from already prepared features (no U-Net pass). */
async function drawPrepared(segmenter: ProbabilisticSegmenter, prepared: Prepared, shape: SampleShape, { n, seed, perScale }: Draw): Promise<ImageSamples[]> {
  const { batch: B, height: H, width: W } = shape;
  let classes: tf.Tensor | undefined;
  let foreground: tf.Tensor | undefined;
  try {
    [classes, foreground] = tf.tidy(() => {
      const logits = segmenter.sample(prepared, n, { seed, perScale }); // [B, n, H, W, K]
      const hard = tf.cast(tf.argMax(logits, -1), 'int32');
      const K = logits.shape[logits.shape.length - 1]!;
      const background = tf.slice(tf.softmax(logits, -1), [0, 0, 0, 0, 0], [B, n, H, W, 1]);
      const fg = K > 1 ? tf.reshape(tf.sub(1, background), [B, n, H, W]) : tf.zeros([B, n, H, W]);
      return [hard, fg] as [tf.Tensor, tf.Tensor];
    });
    const hard = await classes.data();
    const soft = (await foreground.data()) as Float32Array;
    const pixels = H * W;
    const out: ImageSamples[] = [];
    for (let b = 0; b < B; b++) {
      const masks: Uint8Array[] = [];
      const fg: Float32Array[] = [];
      for (let s = 0; s < n; s++) {
        const offset = (b * n + s) * pixels;
        masks.push(Uint8Array.from(hard.subarray(offset, offset + pixels)));
        fg.push(soft.slice(offset, offset + pixels));
      }
      out.push({ masks, foreground: fg });
    }
    return out;
  } finally {
    classes?.dispose();
    foreground?.dispose();
  }
}

/** Samples are drawn in blocks of this many, each with its own seed (see sampleItems). */
export const SAMPLE_BLOCK = 16;

/**
 * n samples for each listed dataset item, `batchSize` images per pass. Samples come in blocks of
 * SAMPLE_BLOCK whose noise seed depends only on (seed, stream, chunk, block): asking for 32
 * samples gives the same first 16 as asking for 16 (block 0 keeps the seed a single draw had).
 * Below one block, n samples are drawn in one pass (cheaper; evaluation always asks for whole
 * blocks so that its prefixes are stable).
 */
export async function sampleItems(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  items: number[],
  n: number,
  opts: { seed: number; stream: number; batchSize: number; perScale?: Array<'sample' | 'mean'>; onChunk?: (done: number) => void },
): Promise<ImageSamples[]> {
  const out: ImageSamples[] = [];
  const size = Math.max(1, opts.batchSize);
  for (let start = 0, chunk = 0; start < items.length; start += size, chunk++) {
    const slice = items.slice(start, start + size);
    const batch = assembleBatch(dataset, slice);
    const merged: ImageSamples[] = slice.map(() => ({ masks: [], foreground: [] }));
    // One U-Net + prior pass for the chunk; every block draws from it with its own seed.
    await withPrepared(segmenter, batch.images, batch.shape, async (prepared) => {
      for (let block = 0; block * SAMPLE_BLOCK < n; block++) {
        const count = n <= SAMPLE_BLOCK ? n : SAMPLE_BLOCK;
        const seed = block === 0 ? tfSeed(opts.seed, opts.stream, chunk) : tfSeed(opts.seed, opts.stream, chunk, block);
        const drawn = await drawPrepared(segmenter, prepared, batch.shape, { n: count, seed, perScale: opts.perScale });
        const keep = Math.min(count, n - block * SAMPLE_BLOCK);
        drawn.forEach((d, b) => {
          merged[b]!.masks.push(...d.masks.slice(0, keep));
          merged[b]!.foreground.push(...d.foreground.slice(0, keep));
        });
      }
    });
    out.push(...merged);
    opts.onChunk?.(Math.min(items.length, start + size));
  }
  return out;
}

/** Per-pixel fraction of samples that are foreground (any class but 0). */
export function foregroundFrequency(masks: Uint8Array[]): Float32Array {
  const freq = new Float32Array(masks[0]?.length ?? 0);
  for (const m of masks) for (let i = 0; i < m.length; i++) if (m[i]) freq[i] += 1;
  for (let i = 0; i < freq.length; i++) freq[i] /= masks.length;
  return freq;
}
