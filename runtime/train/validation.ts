/**
 * Validation during training: GED, Hungarian-matched IoU and sample diversity of prior samples on
 * the val split, the KL of every latent dimension (posterior vs prior on the val annotations),
 * a posterior-collapse check, and the score that picks the `best/` checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import type { ProbabilisticSegmenter, Tensor } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import type { Dataset } from '../data/types.js';
import type { ResolvedSpec, SelectBy, TrainSpec } from '../../spec/types.js';
import { DIAG_GAUSSIAN } from '../../plugins/toolkit/distributions.js';
import { latentKLs } from '../../plugins/builtin/losses.js';
import { sampleDiversity } from '../eval/metrics.js';
import { evaluateSplit, setupMetrics } from '../sample/evaluate.js';
import { assembleBatch } from './batches.js';
import { STREAM, tfSeed } from './rng.js';

export interface ValidationResult {
  ged: number;
  /** Hungarian-matched IoU of samples and annotations (higher is better). */
  hungarianIoU: number;
  /** Mean pairwise distance between the model's samples. */
  diversity: number;
  /** The same for the annotators, on the same images: what diversity should be near. */
  annotatorDiversity: number;
  /** Mean KL(posterior || prior) per latent dimension in nats (spatial latents: per channel, summed over positions). */
  klPerDim: number[];
  /** What `select_by` minimises. */
  score: number;
}

/** KL under this many nats per image: the posterior tells the decoder (almost) nothing. */
export const COLLAPSE_KL = 0.05;
/** Sample diversity under this fraction of the annotators': the samples are near-deterministic. */
export const COLLAPSE_DIVERSITY_RATIO = 0.25;
/** A latent dimension carrying more than this many nats counts as active. */
export const ACTIVE_DIM_KL = 0.01;

export async function validate(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  spec: ResolvedSpec,
  registry: Registry,
  step: number,
): Promise<ValidationResult> {
  const t = spec.train;
  const n = t.validate_samples;
  const report = await evaluateSplit(segmenter, dataset, spec, registry, {
    split: 'val',
    sampleCounts: [n],
    seed: t.seed,
    stream: STREAM.validation,
    batchSize: t.batch_size,
    metricIds: ['ged', 'hungarian-iou', 'diversity'],
  });
  const at = report.results[String(n)] ?? {};
  const ged = at.ged?.mean ?? NaN;
  const hungarianIoU = at['hungarian-iou']?.mean ?? NaN;
  const { distance } = setupMetrics(spec, registry, []);
  const annotatorDiversity = meanFinite(dataset.splits.val.map((i) => sampleDiversity(dataset.items[i]!.annotations, { distance })));
  return {
    ged,
    hungarianIoU,
    diversity: at.diversity?.mean ?? NaN,
    annotatorDiversity,
    klPerDim: await latentKLPerDim(segmenter, dataset, dataset.splits.val, t.batch_size, tfSeed(t.seed, STREAM.validation, step)),
    score: selectionScore(t.select_by ?? 'ged', ged, hungarianIoU),
  };
}

/**
 * The number `best/` minimises. `ged`: validation GED, which an over-dispersed model can lower
 * through its sample-diversity term. `ged-hm-iou`: GED + (1 - HM-IoU); HM-IoU matches samples to
 * annotations one to one, so samples far from every annotation cost it whatever their spread.
 * `last`: no selection (NaN never improves), the last step is evaluated.
 */
export function selectionScore(selectBy: SelectBy, ged: number, hungarianIoU: number): number {
  if (selectBy === 'last') return NaN;
  if (selectBy === 'ged-hm-iou') return ged + (1 - hungarianIoU);
  return ged;
}

/**
 * Mean KL per latent dimension over `items`, each posterior built from the image's first
 * annotation. Empty when a latent is not a diagonal Gaussian (no analytic KL to report).
 */
export async function latentKLPerDim(
  segmenter: ProbabilisticSegmenter,
  dataset: Dataset,
  items: number[],
  batchSize: number,
  seed: number,
): Promise<number[]> {
  let sums: number[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = assembleBatch(dataset, items.slice(start, start + batchSize), items.slice(start, start + batchSize).map(() => 0));
    const { batch: B, height: H, width: W, channels: C } = batch.shape;
    const perDim = tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [B, H, W, C]);
      const masks = tf.tensor3d(batch.masks, [B, H, W], 'int32');
      const { latents } = segmenter.trainForward(images, masks, seed + start);
      // No latents (SSN), or a family without a per-dimension KL: nothing to report.
      if (!latents.length || latents.some((l) => l.posterior.family !== DIAG_GAUSSIAN || l.prior.family !== DIAG_GAUSSIAN)) return undefined;
      // Spatial latents: one number per channel (summed over positions); flat latents: per dim.
      const perScale = latentKLs(tf, latents).map((kl, s) => {
        const channels = latents[s]!.posterior.eventShape.at(-1)!;
        return tf.sum(tf.reshape(kl, [B, -1, channels]), [0, 1]);
      });
      return tf.concat(perScale) as Tensor;
    });
    if (!perDim) return [];
    // Async read: webgpu in Node has no synchronous one.
    const values = Array.from(await perDim.data());
    perDim.dispose();
    sums = values.map((v, d) => v + (sums[d] ?? 0));
  }
  return sums.map((s) => s / Math.max(1, items.length));
}

/** A one-line warning when the model looks collapsed, or undefined. */
export function collapseWarning(step: number, r: Pick<ValidationResult, 'klPerDim' | 'diversity' | 'annotatorDiversity'>): string | undefined {
  const kl = r.klPerDim.reduce((a, b) => a + b, 0);
  const klCollapsed = r.klPerDim.length > 0 && kl < COLLAPSE_KL;
  const flatSamples = r.annotatorDiversity > 0 && r.diversity < COLLAPSE_DIVERSITY_RATIO * r.annotatorDiversity;
  if (!klCollapsed && !flatSamples) return undefined;
  const active = r.klPerDim.filter((v) => v > ACTIVE_DIM_KL).length;
  const causes = [
    klCollapsed ? `KL ${kl.toFixed(4)} nats per image (${active} of ${r.klPerDim.length} latent dims above ${ACTIVE_DIM_KL})` : '',
    flatSamples ? `sample diversity ${r.diversity.toFixed(3)} vs the annotators' ${r.annotatorDiversity.toFixed(3)}` : '',
  ].filter(Boolean);
  return (
    `step ${step}: posterior collapse suspected: ${causes.join(', ')}; the samples ignore the latent. ` +
    'Dead ReLUs in the posterior net are a common cause at high learning rates: try prior/posterior { activation: elu }, ' +
    'a learning-rate warm-up (schedule { warmup_steps: 100 }) or free bits (loss { kl analytic { free_bits: 0.05 } }); docs/language.md, "Posterior collapse"'
  );
}

function meanFinite(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

/** The validation event's fields in metrics.jsonl (`ged` as before; the rest for the collapse check). */
export function validationRecord(v: ValidationResult): Record<string, unknown> {
  return {
    ged: v.ged,
    hungarian_iou: v.hungarianIoU,
    diversity: v.diversity,
    annotator_diversity: v.annotatorDiversity,
    kl_per_dim: v.klPerDim,
    score: v.score,
  };
}

/** The progress line of one validation. */
export function validationLine(
  step: number,
  t: Pick<TrainSpec, 'validate_samples' | 'select_by'>,
  v: ValidationResult,
  improved: boolean,
  best: { step: number; ged: number; score?: number } | undefined,
): string {
  const kl = v.klPerDim.length ? `, KL ${v.klPerDim.reduce((a, b) => a + b, 0).toFixed(3)} nats` : '';
  const head =
    `validation at step ${step}: GED ${v.ged.toFixed(4)} (${t.validate_samples} samples), HM-IoU ${v.hungarianIoU.toFixed(4)}, ` +
    `diversity ${v.diversity.toFixed(3)} (annotators ${v.annotatorDiversity.toFixed(3)})${kl}`;
  if ((t.select_by ?? 'ged') === 'last') return head;
  const what = t.select_by === 'ged-hm-iou' ? 'GED + 1 - HM-IoU' : 'GED';
  if (improved) return `${head}, new best`;
  return `${head} (best ${what} ${(best?.score ?? best?.ged)?.toFixed(4)} at step ${best?.step})`;
}
