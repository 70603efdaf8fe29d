/**
 * Built-in distance (`iou`) and metrics (`ged`, `hungarian-iou`, `ncc`, `diversity`,
 * `mode-tv`): thin wrappers over runtime/eval, which works on plain masks (no tfjs here).
 * `ged`, `diversity` and `mode-tv` use the spec's `eval.distance` (ctx.distance); `hungarian-iou`
 * is defined on IoU and `ncc` on cross-entropies, so they take their own `foreground` option.
 */
import { definePlugin } from '../../compiler/api.js';
import type { DistanceContribution, MetricContribution } from '../../compiler/api.js';
import type { Foreground } from '../../runtime/eval/masks.js';
import { iouDistance } from '../../runtime/eval/masks.js';
import { DEFAULT_MODE_THRESHOLD, ged, hungarianIoU, modeFrequencyTV, nccDetails, sampleDiversity } from '../../runtime/eval/metrics.js';

const foregroundSchema = {
  description: "Foreground pixels: 'any' non-zero class (default: lesion vs background) or one class id.",
  anyOf: [{ const: 'any' }, { type: 'integer', minimum: 1, maximum: 255 }],
  default: 'any',
} as const;

const noOptions = { type: 'object', additionalProperties: false, properties: {} } as const;

interface ForegroundOptions {
  foreground: Foreground;
}

const iou: DistanceContribution<ForegroundOptions> = {
  description: 'd = 1 - IoU of the foreground (LIDC: both empty -> 0, exactly one empty -> 1).',
  options: { type: 'object', additionalProperties: false, properties: { foreground: foregroundSchema } },
  distance: (a, b, { options }) => iouDistance(a, b, options.foreground ?? 'any'),
};

const gedMetric: MetricContribution = {
  description: 'Squared generalised energy distance per image, V-statistic with diagonal pairs (eval.distance).',
  options: noOptions,
  compute: ({ samples, annotations, distance }) => ged(samples, annotations, { distance }),
};

const hungarianMetric: MetricContribution<ForegroundOptions & { max_tiled: number }> = {
  description: 'Hungarian-matched IoU: annotations tiled to the sample count (lcm when not a multiple), optimal 1 - IoU matching.',
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      foreground: foregroundSchema,
      max_tiled: {
        type: 'integer',
        minimum: 1,
        default: 2048,
        description: 'Largest lcm(samples, annotations) accepted; beyond it the metric fails (use a multiple of the annotation count).',
      },
    },
  },
  compute: ({ samples, annotations, options }) =>
    hungarianIoU(samples, annotations, { foreground: options.foreground ?? 'any', maxTiledSize: options.max_tiled ?? 2048 }),
};

const nccMetric: MetricContribution<ForegroundOptions & { use_probabilities: boolean; eps: number }> = {
  description: "S_NCC (PHiSeg): correlation of E[CE(s_bar, s)] and E[CE(y, s)] maps; NaN (skipped) when a map is constant.",
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      foreground: foregroundSchema,
      use_probabilities: {
        type: 'boolean',
        default: true,
        description: "Use the samples' soft foreground probabilities when the runtime has them (only with foreground 'any'); else the hard masks.",
      },
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: 'Added inside the logarithms (PHiSeg).' },
    },
  },
  compute: ({ samples, annotations, options, probabilities }) => {
    const foreground = options.foreground ?? 'any';
    const soft = options.use_probabilities !== false && foreground === 'any' && probabilities?.length === samples.length;
    return nccDetails(samples, annotations, { foreground, eps: options.eps ?? 1e-8, ...(soft ? { probabilities } : {}) }).value;
  },
};

const diversityMetric: MetricContribution = {
  description: 'Mean pairwise eval.distance between distinct samples (NaN, skipped, with one sample).',
  options: noOptions,
  compute: ({ samples, distance }) => sampleDiversity(samples, { distance }),
};

const modeTvMetric: MetricContribution<{ threshold: number }> = {
  description: "Total variation between the samples' mode frequencies (nearest true mode by eval.distance) and the true mode probabilities.",
  options: {
    type: 'object',
    additionalProperties: false,
    properties: {
      threshold: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: DEFAULT_MODE_THRESHOLD,
        description: "A sample farther than this from every mode counts as 'other' (true probability 0).",
      },
    },
  },
  needsModes: true,
  compute: ({ samples, modes, distance, options }) => {
    if (!modes) return NaN;
    return modeFrequencyTV(samples, modes, { distance, threshold: options.threshold ?? DEFAULT_MODE_THRESHOLD });
  },
};

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
