/**
 * Drives a model for the latent-grid figure: ONE `prepare` of the image, the prior's mean and
 * marginal standard deviation read back (Distribution.mean / stddev: a low-rank factor or an
 * ancestral prior counts, whatever the family's parameters are called), the G*G grid latents
 * built on the host, then ONE `decode` of all of them.
 *
 * The latent is handled as its flattened vector (the hierarchical model's is already flat, all
 * scales coarse to fine), so "dimension d" is index d of that vector.
 */
import * as tf from '@tensorflow/tfjs';
import type { ProbabilisticSegmenter } from '../../compiler/api.js';
import { gridOffsets, largestSigmaDims, latentGridVectors } from './latent-grid.js';

export interface LatentGridRequest {
  /** H*W*C values in [0, 1]. */
  image: Float32Array;
  height: number;
  width: number;
  channels: number;
  grid: number;
  range: number;
  /** Two latent dimensions (0-based); default: the two with the largest prior sigma. */
  dims?: [number, number];
}

export interface DecodedLatentGrid {
  /** Hard masks (argmax class) at grid point r*G + c. */
  masks: Uint8Array[];
  /** The prior's mean and sigma for this image, flattened. */
  mu: Float32Array;
  sigma: Float32Array;
  dims: [number, number];
  offsets: number[];
  /** The latents decoded, G*G rows of M values. */
  z: Float32Array;
  /** Shape of one latent as the model declares it. */
  eventShape: number[];
}

/** Thrown for a prior the figure cannot be drawn for (too few dimensions, a bad dimension). */
export class LatentGridError extends Error {
  override name = 'LatentGridError';
}

export async function decodeLatentGrid(segmenter: ProbabilisticSegmenter, req: LatentGridRequest): Promise<DecodedLatentGrid> {
  const { height: H, width: W, channels: C } = req;
  const offsets = gridOffsets(req.grid, req.range);
  const input = tf.tensor4d(req.image, [1, H, W, C]);
  const prepared = segmenter.prepare(input);
  let hard: tf.Tensor | undefined;
  try {
    const { prior } = prepared;
    const moments = tf.tidy(() => [prior.mean(), prior.stddev()]);
    let mu: Float32Array;
    let sigma: Float32Array;
    try {
      [mu, sigma] = await Promise.all(moments.map(async (t) => Float32Array.from(await t.data())));
    } finally {
      tf.dispose(moments);
    }
    const M = mu.length;
    if (M < 2) throw new LatentGridError(`the latent has ${M} dimension; the grid needs at least 2`);
    const dims = req.dims ?? largestSigmaDims(sigma);
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0 || d >= M) throw new LatentGridError(`latent dimension ${d} does not exist: the latent has ${M} dimensions (0..${M - 1})`);
    }
    if (dims[0] === dims[1]) throw new LatentGridError(`the two latent dimensions must differ (got ${dims[0]} twice)`);
    const z = latentGridVectors(mu, sigma, dims, offsets);
    const n = offsets.length * offsets.length;
    const eventShape = [...prior.eventShape];
    hard = tf.tidy(() => {
      const logits = segmenter.decode(prepared, tf.tensor(z, [1, n, ...eventShape])); // [1, n, H, W, K]
      return tf.cast(tf.argMax(logits, -1), 'int32');
    });
    const classes = await hard.data();
    const masks = Array.from({ length: n }, (_, k) => Uint8Array.from(classes.subarray(k * H * W, (k + 1) * H * W)));
    return { masks, mu, sigma, dims, offsets, z, eventShape };
  } finally {
    hard?.dispose();
    prepared.dispose();
    input.dispose();
  }
}
