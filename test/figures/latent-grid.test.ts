import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Distribution, Prepared, ProbabilisticSegmenter, Tensor } from '../../compiler/api.js';
import { getPixel } from '../../runtime/figures/canvas.js';
import { decodeLatentGrid } from '../../runtime/figures/latent-decode.js';
import {
  CIRCLE_COLOR,
  gridOffsets,
  gridPoint,
  largestSigmaDims,
  latentGridFigure,
  latentGridLayout,
  latentGridVectors,
} from '../../runtime/figures/latent-grid.js';
import { writePng } from '../../runtime/data/png.js';
import { lowRankGaussian } from '../../plugins/toolkit/distributions.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const H = 8;
const W = 8;
const MU = [0.5, -1, 2, 0.25];
const LOG_SIGMA = [Math.log(0.5), Math.log(2), Math.log(0.1), Math.log(1.5)];

/**
 * A model with a fixed prior (mu, log sigma above) whose decode records its input and paints a
 * pixel-column band whose position follows z[1] and a row band following z[3]: enough to see
 * the grid moving, without training anything.
 */
function fakeSegmenter(eventShape: number[] = [4]) {
  const calls = { prepare: 0, decode: 0, decodedZ: [] as number[], decodedShape: [] as number[] };
  const segmenter: ProbabilisticSegmenter = {
    prepare(images: Tensor): Prepared {
      calls.prepare++;
      const B = images.shape[0]!;
      const mu = tf.tensor(Array.from({ length: B }, () => MU).flat(), [B, ...eventShape]);
      const logSigma = tf.tensor(Array.from({ length: B }, () => LOG_SIGMA).flat(), [B, ...eventShape]);
      const prior: Distribution = {
        family: 'diag-gaussian',
        params: { mu, log_sigma: logSigma },
        eventShape,
        sample: () => {
          throw new Error('not used');
        },
        mean: () => tf.clone(mu),
        stddev: () => tf.exp(logSigma),
        logProb: () => {
          throw new Error('not used');
        },
      };
      return { prior, dispose: () => tf.dispose([mu, logSigma]) };
    },
    decode(_prepared: Prepared, z: Tensor): Tensor {
      calls.decode++;
      calls.decodedShape = z.shape;
      calls.decodedZ = Array.from(z.dataSync());
      return tf.tidy(() => {
        const [B, n] = z.shape as number[];
        const flat = tf.reshape(z, [B! * n!, -1]);
        const zs = flat.arraySync() as number[][];
        // foreground where column x is near a position set by z[1] and row near one set by z[3].
        const fg = zs.flatMap((v) =>
          Array.from({ length: H * W }, (_, p) => {
            const x = p % W;
            const y = Math.floor(p / W);
            return Math.abs(x - (3.5 + v[1]! / 2)) < 1.5 || Math.abs(y - (3.5 - v[3]! * 1.5)) < 1 ? 1 : 0;
          }),
        );
        const fgT = tf.tensor(fg, [B!, n!, H, W, 1]);
        return tf.concat([tf.sub(1, fgT), fgT], -1); // logits: class 1 wins where fg
      });
    },
    sample: () => {
      throw new Error('not used');
    },
    trainForward: () => {
      throw new Error('not used');
    },
  };
  return { segmenter, calls };
}

describe('latent grid positions', () => {
  it('offsets run from -range to +range evenly', () => {
    expect(gridOffsets(5, 2)).toEqual([-2, -1, 0, 1, 2]);
    expect(gridOffsets(1, 3)).toEqual([0]);
    expect(() => gridOffsets(0, 3)).toThrow(/grid/);
  });

  it('default dimensions are the two largest sigmas', () => {
    expect(largestSigmaDims(LOG_SIGMA.map(Math.exp))).toEqual([1, 3]);
    expect(largestSigmaDims([1, 1, 1])).toEqual([0, 1]);
  });

  it('z = mu + sigma * t on the chosen dims, mu elsewhere; top row is +range', () => {
    const sigma = LOG_SIGMA.map(Math.exp);
    const offsets = gridOffsets(3, 3);
    const z = latentGridVectors(MU, sigma, [1, 3], offsets);
    expect(z.length).toBe(9 * 4);
    // Grid point (row 0, col 0): t_x = -3, t_y = +3.
    expect(Array.from(z.subarray(0, 4))).toEqual([0.5, -1 + 2 * -3, 2, 0.25 + 1.5 * 3].map(Math.fround));
    // Centre point: the prior mean.
    expect(Array.from(z.subarray(4 * 4, 5 * 4))).toEqual(MU.map(Math.fround));
    expect(gridPoint(5, offsets)).toEqual({ tx: 3, ty: 0, row: 1, col: 2 });
  });
});

describe('decodeLatentGrid with a recording fake model', () => {
  const image = new Float32Array(H * W).fill(0.5);

  it('one prepare, one decode of all G*G latents, z = mu + sigma * t, no leaked tensors', async () => {
    const before = tf.memory().numTensors;
    const { segmenter, calls } = fakeSegmenter();
    const grid = await decodeLatentGrid(segmenter, { image, height: H, width: W, channels: 1, grid: 5, range: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(calls.prepare).toBe(1);
    expect(calls.decode).toBe(1);
    expect(calls.decodedShape).toEqual([1, 25, 4]);
    expect(grid.dims).toEqual([1, 3]);
    const sigma = LOG_SIGMA.map(Math.exp);
    const t = [-2, -1, 0, 1, 2];
    for (let r = 0; r < 5; r++) {
      for (let c = 0; c < 5; c++) {
        const z = calls.decodedZ.slice((r * 5 + c) * 4, (r * 5 + c + 1) * 4);
        const expected = [MU[0]!, MU[1]! + sigma[1]! * t[c]!, MU[2]!, MU[3]! + sigma[3]! * t[4 - r]!];
        z.forEach((v, m) => expect(v).toBeCloseTo(expected[m]!, 5));
      }
    }
    expect(grid.masks).toHaveLength(25);
    // The band of the centre tile (z = mu: z[1] = -1) sits at column 3.5 - 0.5 = 3: columns 2..4.
    const centre = grid.masks[12]!;
    expect([1, 2, 3, 4, 5].map((x) => centre[0 * W + x])).toEqual([0, 1, 1, 1, 0]);
  });

  it('explicit dims, and a latent of event shape [2, 2] handled as its flattened vector', async () => {
    const { segmenter, calls } = fakeSegmenter([2, 2]);
    const grid = await decodeLatentGrid(segmenter, { image, height: H, width: W, channels: 1, grid: 3, range: 1, dims: [0, 2] });
    expect(calls.decodedShape).toEqual([1, 9, 2, 2]);
    expect(grid.eventShape).toEqual([2, 2]);
    // Point (row 2, col 2): t_x = +1 on dim 0, t_y = -1 on dim 2.
    const z = calls.decodedZ.slice(8 * 4, 9 * 4);
    [0.5 + 0.5, -1, 2 - 0.1, 0.25].forEach((v, m) => expect(z[m]).toBeCloseTo(v, 5));
  });

  it('bad dims are a clear error and leak nothing', async () => {
    const before = tf.memory().numTensors;
    const { segmenter } = fakeSegmenter();
    await expect(decodeLatentGrid(segmenter, { image, height: H, width: W, channels: 1, grid: 3, range: 1, dims: [0, 7] })).rejects.toThrow(/dimension 7 does not exist.*4 dimensions/);
    await expect(decodeLatentGrid(segmenter, { image, height: H, width: W, channels: 1, grid: 3, range: 1, dims: [2, 2] })).rejects.toThrow(/must differ/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('decodeLatentGrid with a low-rank prior', () => {
  // Covariance P P^T + diag(exp(logDiag)): the marginal sigma of dim i is sqrt(exp(logDiag_i) + sum_r P_ir^2).
  const LOG_DIAG = [Math.log(0.04), Math.log(0.09), Math.log(0.01), Math.log(0.25)];
  const P = [
    [0.3, 0.4],
    [0, 0],
    [1.2, 0.5],
    [0.1, 0],
  ];
  const marginal = LOG_DIAG.map((l, i) => Math.sqrt(Math.exp(l) + P[i]![0]! ** 2 + P[i]![1]! ** 2)); // [0.539, 0.3, 1.304, 0.510]

  it('uses the marginal stddev (the factor included), not exp of a parameter', async () => {
    const decoded: number[][] = [];
    const segmenter: ProbabilisticSegmenter = {
      prepare(images: Tensor): Prepared {
        const mu = tf.tensor2d([MU], [1, 4]);
        const logDiag = tf.tensor2d([LOG_DIAG], [1, 4]);
        const factor = tf.tensor3d([P], [1, 4, 2]);
        expect(images.shape[0]).toBe(1);
        return { prior: lowRankGaussian(tf, mu, logDiag, factor), dispose: () => tf.dispose([mu, logDiag, factor]) };
      },
      decode(_prepared: Prepared, z: Tensor): Tensor {
        decoded.push(Array.from(z.dataSync()));
        return tf.zeros([1, z.shape[1]!, H, W, 2]);
      },
      sample: () => {
        throw new Error('not used');
      },
      trainForward: () => {
        throw new Error('not used');
      },
    };
    const before = tf.memory().numTensors;
    const grid = await decodeLatentGrid(segmenter, { image: new Float32Array(H * W), height: H, width: W, channels: 1, grid: 3, range: 1 });
    expect(tf.memory().numTensors).toBe(before);
    Array.from(grid.sigma).forEach((s, i) => expect(s).toBeCloseTo(marginal[i]!, 5));
    // The two largest marginal sigmas are dims 2 and 0 (dim 3's diagonal alone would have beaten dim 0).
    expect(grid.dims).toEqual([0, 2]);
    // Grid point (row 0, col 2): t_x = +1 on dim 0, t_y = +1 on dim 2.
    const z = decoded[0]!.slice(2 * 4, 3 * 4);
    [MU[0]! + marginal[0]!, MU[1]!, MU[2]! + marginal[2]!, MU[3]!].forEach((v, m) => expect(z[m]).toBeCloseTo(v, 5));
  });
});

describe('latent grid figure', () => {
  it('the circle is drawn at radius 1 sigma around t = 0', async () => {
    const { segmenter } = fakeSegmenter();
    const image = Float32Array.from({ length: H * W }, (_, p) => (p % W) / W);
    const grid = await decodeLatentGrid(segmenter, { image, height: H, width: W, channels: 1, grid: 7, range: 3 });
    const opts = { height: H, width: W, channels: 1, classes: 2, offsets: grid.offsets, dims: grid.dims, scale: 6, gap: 2, circleThickness: 2 };
    const fig = latentGridFigure(image, grid.masks, opts);
    const L = latentGridLayout(opts);
    // Hand-computed: tiles 48 px, pitch 50 px, t step 1 -> 50 pixels per sigma.
    expect(L.pixelsPerSigmaX).toBe(50);
    expect(L.pixelsPerSigmaY).toBe(50);
    // t = 0 is the centre of tile (3, 3).
    expect(L.originX).toBe(L.gridX + 3 * 50 + 24);
    expect(L.originY).toBe(L.gridY + 3 * 50 + 24);
    const radii: number[] = [];
    for (let y = 0; y < fig.height; y++) {
      for (let x = 0; x < fig.width; x++) {
        const p = getPixel(fig, x, y);
        if (p[0] === CIRCLE_COLOR[0] && p[1] === CIRCLE_COLOR[1] && p[2] === CIRCLE_COLOR[2]) {
          radii.push(Math.hypot((x + 0.5 - L.originX) / L.pixelsPerSigmaX, (y + 0.5 - L.originY) / L.pixelsPerSigmaY));
        }
      }
    }
    // A full ring of radius 50 px and thickness 2 px has about 2*pi*50*2 = 628 pixels.
    expect(radii.length).toBeGreaterThan(550);
    expect(radii.length).toBeLessThan(700);
    // Every ring pixel is within half the thickness (plus a pixel's reach) of 1 sigma.
    for (const r of radii) expect(Math.abs(r - 1)).toBeLessThanOrEqual(1.5 / 50);
    const dir = process.env.PUNET_FIGURE_PREVIEW;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      writePng(join(dir, 'latent-grid.png'), fig);
    }
  });

  it('needs one mask per grid point', () => {
    expect(() =>
      latentGridFigure(new Float32Array(4), [new Uint8Array(4)], { height: 2, width: 2, channels: 1, classes: 2, offsets: [-1, 0, 1], dims: [0, 1] }),
    ).toThrow(/needs 9 masks/);
  });
});
