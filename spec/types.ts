/**
 * The resolved spec: what `punet print` emits and what the compiler and runtime consume.
 *
 * It is the JSON form of a .punet file after `extends` is merged and schema defaults are
 * applied. Keys are the source keys unchanged (snake_case), so a JSON path maps 1:1 back to a
 * source position. A block is `{ kind, ...options }`: `kind` names a contribution in the
 * registry, the other keys are that contribution's options (validated by its own schema).
 */

/** A block, loss term, distance, optimiser, ... chosen by `kind`, with its options inline. */
export interface KindSpec {
  kind: string;
  [option: string]: unknown;
}

/** The model-level roles a block can fill. An architecture says which roles it needs. */
export const BLOCK_ROLES = ['unet', 'prior', 'posterior', 'latent', 'combiner'] as const;
export type BlockRole = (typeof BLOCK_ROLES)[number];

export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface InputSpec {
  /** [height, width] in pixels. */
  size: [number, number];
  channels: number;
  classes: number;
  /** Model-input normalisation (runtime/data/normalize.ts); absent = none. */
  normalize?: 'none' | 'dataset' | 'percentile' | 'z-score';
}

export interface LossSpec {
  /** Per-pixel reconstruction term (extension point `losses`). */
  reconstruction: KindSpec;
  /** KL estimator between posterior and prior (extension point `klEstimators`). */
  kl: KindSpec;
  /** How reconstruction and KL combine into the loss (extension point `objectives`): weighted sum, GECO, ... */
  objective: KindSpec;
  /** Weight regularisation (extension point `regularizers`); kind `none` for none. */
  regularization: KindSpec;
}

export interface EvalSpec {
  /** d(a, b) used by GED and diversity (extension point `distances`). */
  distance: KindSpec;
  /** Sample counts to report (the paper: 1, 4, 8, 16). */
  samples: number[];
  /** Metrics (extension point `metrics`): a plain id, or `kind { options }`. */
  metrics: MetricEntry[];
}

/** An `eval.metrics` entry as written: `ged` or `my/metric { k: 3 }`. */
export type MetricEntry = string | KindSpec;

/** A metric entry in block form: a plain id has no options (its schema defaults apply). */
export function metricKindSpec(entry: MetricEntry): KindSpec {
  return typeof entry === 'string' ? { kind: entry } : entry;
}

/** Checkpoint selection: validation GED, GED + (1 - Hungarian-matched IoU), or the last step. */
export type SelectBy = 'ged' | 'ged-hm-iou' | 'last';

export interface TrainSpec {
  optimizer: KindSpec;
  schedule: KindSpec;
  data: KindSpec;
  batch_size: number;
  steps: number;
  seed: number;
  /** Validation (GED on the val split) every this many steps; 0 = never. */
  validate_every: number;
  /** Samples per image for validation GED. */
  validate_samples: number;
  /** What picks the `best/` checkpoint (runtime/train/validation.ts); absent = 'ged'. */
  select_by?: SelectBy;
  checkpoint_every: number;
  backend: BackendChoice;
  /** Stop when validation `metric` has not improved by `min_delta` for `patience` validations. */
  early_stop?: { metric: 'ged'; patience: number; min_delta: number };
}

/** `sweep { ... }`: defaults for `punet sweep` (runtime/sweep/plan.ts). */
export interface SweepSpec {
  seeds: number;
  grid: string[];
  variants: string[];
}

export interface ResolvedSpec {
  /** The model's name (`model "name" { ... }`). */
  model: string;
  /** Plugin modules from `use` lines: absolute file paths or package names, in order. */
  use: string[];
  input: InputSpec;
  /** Composes the blocks into a Probabilistic U-Net (extension point `architectures`). */
  architecture: KindSpec;
  unet?: KindSpec;
  prior?: KindSpec;
  posterior?: KindSpec;
  latent?: KindSpec;
  combiner?: KindSpec;
  loss: LossSpec;
  eval: EvalSpec;
  train: TrainSpec;
  sweep?: SweepSpec;
}
