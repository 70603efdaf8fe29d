/**
 * Built-in distance (`iou`) and metrics (`ged`, `hungarian-iou`, `ncc`, `diversity`,
 * `mode-tv`): thin wrappers over runtime/eval, which works on plain masks (no tfjs here).
 * `ged`, `diversity` and `mode-tv` use the spec's `eval.distance` (ctx.distance); `hungarian-iou`
 * is defined on IoU and `ncc` on cross-entropies, so they take their own `foreground` option.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineContribution, definePlugin } from '../../compiler/api.js';
import type { DistanceContribution, MetricContribution } from '../../compiler/api.js';
import { iouDistance } from '../../runtime/eval/masks.js';
import { DEFAULT_MODE_THRESHOLD, ged, hungarianIoU, modeFrequencyTV, nccDetails, sampleDiversity } from '../../runtime/eval/metrics.js';

// Option schemas (TypeBox): the JSON Schema the spec is validated against and the static type of `ctx.options`.

const Foreground = Type.Union([Type.Literal('any'), Type.Integer({ minimum: 1, maximum: 255 })], {
  description: "Foreground pixels: 'any' non-zero class (default: lesion vs background) or one class id.",
  default: 'any',
});
const NoOptions = Type.Object({}, { additionalProperties: false });
const ForegroundSchema = Type.Object({ foreground: Foreground }, { additionalProperties: false });
const HungarianSchema = Type.Object(
  {
    foreground: Foreground,
    max_tiled: Type.Integer({
      minimum: 1,
      default: 2048,
      description: 'Largest lcm(samples, annotations) accepted; beyond it the metric fails (use a multiple of the annotation count).',
    }),
  },
  { additionalProperties: false },
);
const NccSchema = Type.Object(
  {
    foreground: Foreground,
    use_probabilities: Type.Boolean({
      default: true,
      description: "Use the samples' soft foreground probabilities when the runtime has them (only with foreground 'any'); else the hard masks.",
    }),
    eps: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Added inside the logarithms (PHiSeg).' }),
  },
  { additionalProperties: false },
);
const ModeTvSchema = Type.Object(
  {
    threshold: Type.Number({
      minimum: 0,
      maximum: 1,
      default: DEFAULT_MODE_THRESHOLD,
      description: "A sample farther than this from every mode counts as 'other' (true probability 0).",
    }),
  },
  { additionalProperties: false },
);

const iou = defineContribution<DistanceContribution<Static<typeof ForegroundSchema>>>()({
  description: 'd = 1 - IoU of the foreground (LIDC: both empty -> 0, exactly one empty -> 1).',
  options: ForegroundSchema,
  distance: (a, b, { options }) => iouDistance(a, b, options.foreground),
});

const gedMetric = defineContribution<MetricContribution>()({
  description: 'Squared generalised energy distance per image, V-statistic with diagonal pairs (eval.distance).',
  options: NoOptions,
  compute: ({ samples, annotations, distance }) => ged(samples, annotations, { distance }),
});

const hungarianMetric = defineContribution<MetricContribution<Static<typeof HungarianSchema>>>()({
  description: 'Hungarian-matched IoU: annotations tiled to the sample count (lcm when not a multiple), optimal 1 - IoU matching.',
  options: HungarianSchema,
  compute: ({ samples, annotations, options }) => hungarianIoU(samples, annotations, { foreground: options.foreground, maxTiledSize: options.max_tiled }),
});

const nccMetric = defineContribution<MetricContribution<Static<typeof NccSchema>>>()({
  description: "S_NCC (PHiSeg): correlation of E[CE(s_bar, s)] and E[CE(y, s)] maps; NaN (skipped) when a map is constant.",
  options: NccSchema,
  compute: ({ samples, annotations, options, probabilities }) => {
    const soft = options.use_probabilities && options.foreground === 'any' && probabilities?.length === samples.length;
    return nccDetails(samples, annotations, { foreground: options.foreground, eps: options.eps, ...(soft ? { probabilities } : {}) }).value;
  },
});

const diversityMetric = defineContribution<MetricContribution>()({
  description: 'Mean pairwise eval.distance between distinct samples (NaN, skipped, with one sample).',
  options: NoOptions,
  compute: ({ samples, distance }) => sampleDiversity(samples, { distance }),
});

const modeTvMetric = defineContribution<MetricContribution<Static<typeof ModeTvSchema>>>()({
  description: "Total variation between the samples' mode frequencies (nearest true mode by eval.distance) and the true mode probabilities.",
  options: ModeTvSchema,
  needsModes: true,
  compute: ({ samples, modes, distance, options }) => (modes ? modeFrequencyTV(samples, modes, { distance, threshold: options.threshold }) : NaN),
});

export default definePlugin({
  name: 'punet-metrics',
  version: '0.1.0',
  punetApi: '^2.0.0',
  distances: { iou },
  metrics: {
    ged: gedMetric,
    'hungarian-iou': hungarianMetric,
    ncc: nccMetric,
    diversity: diversityMetric,
    'mode-tv': modeTvMetric,
  },
});
