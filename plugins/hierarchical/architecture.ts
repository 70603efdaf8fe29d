/**
 * Architecture `hierarchical`: composes the hierarchical blocks into a ProbabilisticSegmenter.
 *
 * Latent scale s (0 = coarsest) lives at U-Net level L-1-s. Walking a decoder upwards, at each
 * latent level a head reads the features, z_s is chosen (sampled, mean, or given) and
 * concatenated before upsampling, so every finer scale is conditioned on the coarser ones.
 * Training: the posterior core walks its own decoder with its own samples; those samples are
 * fed into the U-Net (prior) decoder (teacher forcing), giving the reconstruction logits and the
 * conditional priors p(z_s | z_<s, x) in one pass.
 */
import { Type } from '@sinclair/typebox';
import { defineArchitecture } from '../../compiler/api.js';
import type { Distribution, Prepared, ProbabilisticSegmenter, SampleOptions, Tensor, Tf } from '../../compiler/api.js';
import { geometryOf } from './config.js';
import { hierarchicalLatent, logitsFromFeatures, posteriorNet, residualUNet, scaleHeads } from './blocks.js';
import type { ResNetCore } from './layers.js';
import { ancestralPrior, mixSeed } from './distribution.js';

type Pick = (scale: number, features: Tensor) => Tensor;

/**
 * Walks `core`'s decoder from the bottom through every latent scale. Returns the finest latent
 * level's features, with its z concatenated when `concatLast` (the prior decoder goes on from there).
 */
function throughLatents(tf: Tf, core: ResNetCore, skips: Tensor[], scales: number, pick: Pick, concatLast: boolean): Tensor {
  const bottom = core.levels - 1;
  let h = skips[bottom]!;
  for (let s = 0; s < scales; s++) {
    const level = bottom - s;
    if (s > 0) h = core.decodeLevel(level, h, skips[level]!);
    const z = pick(s, h);
    if (s < scales - 1 || concatLast) h = tf.concat([h, z], 3);
  }
  return h;
}

/** The rest of the decoder, from the finest latent level to full resolution. */
function toFullResolution(core: ResNetCore, h: Tensor, skips: Tensor[], fromLevel: number): Tensor {
  for (let l = fromLevel - 1; l >= 0; l--) h = core.decodeLevel(l, h, skips[l]!);
  return h;
}

/**
 * [B, ...] -> [B * n, ...], each item repeated n times consecutively. Tiles a rank-3 view: the
 * webgpu backend runs rank-5 tiles on the CPU through a synchronous read Node cannot do.
 */
function repeatEach(tf: Tf, x: Tensor, n: number): Tensor {
  if (n === 1) return x;
  const shape = x.shape as number[];
  const flat = tf.reshape(x, [shape[0]!, 1, -1]);
  return tf.reshape(tf.tile(flat, [1, n, 1]), [shape[0]! * n, ...shape.slice(1)]);
}

function flattenScales(tf: Tf, zs: Tensor[]): Tensor {
  return tf.concat(zs.map((z) => tf.reshape(z, [z.shape[0]!, -1])), 1);
}

interface HierarchicalPrepared extends Prepared {
  /** U-Net encoder features per level, [B, ...]. */
  skips: Tensor[];
  batch: number;
}

/** Build order: the latent first (the U-Net's decoder widths depend on it), the U-Net, then what reads both. */
const slots = {
  latent: { contract: hierarchicalLatent },
  unet: { contract: residualUNet },
  prior: { contract: scaleHeads },
  posterior: { contract: posteriorNet },
  combiner: { contract: logitsFromFeatures },
};

export const hierarchicalArchitecture = defineArchitecture({
  description: 'hierarchical Probabilistic U-Net (Kohl et al. 2019): spatial latents at several scales, coarse to fine',
  options: Type.Object({}, { additionalProperties: false }),
  slots,
  compose(ctx): ProbabilisticSegmenter {
    const { tf } = ctx;
    const { unet, prior, posterior, latent, combiner } = ctx.blocks;
    const geometry = geometryOf(unet.core.levels, latent, ctx.input.size);
    const S = latent.scales;
    const L = unet.core.levels;
    const finestLatentLevel = L - S;
    const [H, W] = ctx.input.size;
    const K = ctx.input.classes;

    /** Prior decoder on (repeated) skips, choosing each z with `pick`; returns [B', H, W, K] logits. */
    const decodeWith = (skips: Tensor[], pick: Pick): Tensor => {
      const h = throughLatents(tf, unet.core, skips, S, pick, true);
      return combiner.apply(toFullResolution(unet.core, h, skips, finestLatentLevel));
    };
    const priorAt = (s: number, features: Tensor): Distribution => latent.distribution(prior.head(s, features));
    const oneSample = (d: Distribution, seed: number): Tensor => tf.squeeze(d.sample(1, seed), [1]);

    /** Ancestral prior samples z (list per scale) on repeated skips; perScale picks mean or sample. */
    const ancestral = (skips: Tensor[], seed: number, perScale: Array<'sample' | 'mean'>, collect?: Tensor[]): Pick => {
      return (s, features) => {
        const d = priorAt(s, features);
        const z = perScale[s] === 'mean' ? d.mean() : oneSample(d, mixSeed(seed, s));
        collect?.push(z);
        return z;
      };
    };

    const checkPerScale = (perScale: SampleOptions['perScale']): Array<'sample' | 'mean'> => {
      if (perScale === undefined) return new Array(S).fill('sample');
      // One entry applies to every scale (['mean']: the deterministic prior-mean prediction).
      if (perScale.length === 1 && (perScale[0] === 'sample' || perScale[0] === 'mean')) return new Array(S).fill(perScale[0]);
      if (perScale.length !== S || perScale.some((c) => c !== 'sample' && c !== 'mean')) {
        throw new Error(`perScale must list 'sample' or 'mean' once or for each of the ${S} latent scales (got ${JSON.stringify(perScale)})`);
      }
      return perScale;
    };

    const toSamples = (logits: Tensor, batch: number, n: number): Tensor => tf.reshape(logits, [batch, n, H, W, K]);

    /** z [B, n, latentSize] (all scales flattened, coarse to fine) -> one [B * n, h, w, C] tensor per scale. */
    const splitScales = (z: Tensor, batch: number): { parts: Tensor[]; n: number } => {
      const [zb, n, size] = z.shape as number[];
      if (z.rank !== 3 || zb !== batch || size !== geometry.latentSize) {
        throw new Error(`expected z of shape [${batch}, n, ${geometry.latentSize}] (all scales flattened, coarse to fine), got [${z.shape.join(', ')}]`);
      }
      const flat = tf.reshape(z, [batch * n!, size!]);
      const sizes = Array.from({ length: S }, (_, s) => geometry.scaleSize(s)[0] * geometry.scaleSize(s)[1] * latent.channels);
      const parts = tf.split(flat, sizes, 1).map((part, s) => tf.reshape(part, [batch * n!, ...geometry.scaleSize(s), latent.channels]));
      return { parts, n: n! };
    };

    /** Sum over scales of log p(z_s | z_<s, x): the prior decoder walked with z's own scales. */
    const logProbOf = (skips: Tensor[], batch: number, z: Tensor): Tensor =>
      tf.tidy(() => {
        const { parts, n } = splitScales(z, batch);
        const tiled = skips.map((s) => repeatEach(tf, s, n));
        const terms: Tensor[] = [];
        throughLatents(tf, unet.core, tiled, S, (s, features) => {
          terms.push(priorAt(s, features).logProb(tf.expandDims(parts[s]!, 1)));
          return parts[s]!;
        }, false);
        return tf.reshape(tf.addN(terms), [batch, n]);
      });

    return {
      prepare(images) {
        const batch = images.shape[0]!;
        const { skips, mu, logSigma } = tf.tidy(() => {
          const skips = unet.core.encode(images);
          // The mean path describes the prior as one distribution (Prepared.prior.params).
          const mus: Tensor[] = [];
          const sigmas: Tensor[] = [];
          throughLatents(tf, unet.core, skips, S, (s, features) => {
            const d = priorAt(s, features);
            mus.push(d.params.mu!);
            sigmas.push(d.params.log_sigma!);
            return d.mean();
          }, false);
          return { skips, mu: flattenScales(tf, mus), logSigma: flattenScales(tf, sigmas) };
        });
        const priorDistribution = ancestralPrior({
          tf,
          logProb: (z) => logProbOf(skips, batch, z),
          eventSize: geometry.latentSize,
          meanPath: { mu, log_sigma: logSigma },
          sample: (n, seed) =>
            tf.tidy(() => {
              const zs: Tensor[] = [];
              const tiled = skips.map((s) => repeatEach(tf, s, n));
              throughLatents(tf, unet.core, tiled, S, ancestral(tiled, seed, new Array(S).fill('sample'), zs), false);
              return tf.reshape(flattenScales(tf, zs), [batch, n, geometry.latentSize]);
            }),
        });
        const prepared: HierarchicalPrepared = {
          prior: priorDistribution,
          skips,
          batch,
          dispose: () => tf.dispose([...skips, mu, logSigma]),
        };
        return prepared;
      },

      sample(prepared, n, opts) {
        const { skips, batch } = prepared as HierarchicalPrepared;
        const perScale = checkPerScale(opts.perScale);
        return tf.tidy(() => {
          const tiled = skips.map((s) => repeatEach(tf, s, n));
          return toSamples(decodeWith(tiled, ancestral(tiled, opts.seed, perScale)), batch, n);
        });
      },

      decode(prepared, z) {
        const { skips, batch } = prepared as HierarchicalPrepared;
        return tf.tidy(() => {
          const { parts, n } = splitScales(z, batch);
          const tiled = skips.map((s) => repeatEach(tf, s, n));
          return toSamples(decodeWith(tiled, (s) => parts[s]!), batch, n);
        });
      },

      trainForward(images, masks, seed) {
        // Posterior core with its own samples: q(z_s | z_<s, x, y).
        const postSkips = posterior.core.encode(posterior.input(images, masks));
        const posteriors: Distribution[] = [];
        const zs: Tensor[] = [];
        throughLatents(tf, posterior.core, postSkips, S, (s, features) => {
          const q = latent.distribution(posterior.head(s, features));
          posteriors.push(q);
          zs.push(oneSample(q, mixSeed(seed, s)));
          return zs[s]!;
        }, false);
        // Teacher forcing: the posterior's z into the prior decoder.
        const priors: Distribution[] = [];
        const logits = decodeWith(unet.core.encode(images), (s, features) => {
          priors.push(priorAt(s, features));
          return zs[s]!;
        });
        return { logits, latents: posteriors.map((q, s) => ({ posterior: q, prior: priors[s]! })) };
      },
    };
  },
});
