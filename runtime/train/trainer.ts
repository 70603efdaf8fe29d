/**
 * The training loop: batches, loss, Adam with the spec's schedule, validation (GED, collapse
 * check) with a best checkpoint, atomic checkpoints, resume, NaN stop and a clean stop on request (Ctrl-C).
 */
import * as tf from '@tensorflow/tfjs';
import type { ObjectiveState, OptimizerHandle } from '../../compiler/api.js';
import { compileTraining } from '../../compiler/training.js';
import { pluginVersions } from '../../compiler/plugin-loader.js';
import type { Registry } from '../../compiler/registry.js';
import type { Dataset } from '../data/types.js';
import type { ResolvedSpec } from '../../spec/types.js';
import { readLatestCheckpoint, writeCheckpoint, type Checkpoint } from '../run/checkpoint.js';
import { MetricsLog, runPath } from '../run/folder.js';
import { PUNET_VERSION } from '../run/version.js';
import { checkSameSpec, ResumeError } from '../run/resume.js';
import { BatchSampler } from './batches.js';
import type { CompiledModel } from '../../compiler/compile.js';
import { Progress, type ProgressSink } from './progress.js';
import { STREAM, tfSeed } from './rng.js';
import { captureOptimizer, captureWeights, restoreOptimizer, restoreWeights } from './snapshot.js';
import { NonFiniteLossError, trainHostBatch } from './step.js';
import { collapseWarning, validate, validationLine, validationRecord } from './validation.js';

export interface TrainOptions {
  spec: ResolvedSpec;
  registry: Registry;
  model: CompiledModel;
  dataset: Dataset;
  runDir: string;
  /** Provenance hash of `spec` (compiler/provenance.ts). */
  specHash: string;
  /** Continue from the newest good checkpoint in the run folder. */
  resume?: boolean;
  /** Set `requested` (e.g. from a SIGINT handler) to stop after the current step with a checkpoint. */
  stop?: { requested: boolean };
  /** Progress output (default: process.stdout). */
  out?: ProgressSink;
  warn?: (message: string) => void;
  /** Tests: stop as if interrupted once this many steps are done. */
  stopAfterStep?: number;
  /** Checkpoints kept in `checkpoints/` (default 2: the newest and the one before). */
  keepCheckpoints?: number;
}

export interface TrainResult {
  /** early-stopped: validation stopped improving (train.early_stop); the best checkpoint is in best/. */
  status: 'completed' | 'interrupted' | 'early-stopped';
  /** Completed steps. */
  step: number;
  /** Folder of the last checkpoint written or loaded. */
  lastCheckpoint?: string;
  best?: { step: number; ged: number; score?: number; dir: string };
  resumedFrom?: number;
}

/** Training stopped on a NaN/Inf; carries the last good checkpoint. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly failure: NonFiniteLossError,
    readonly lastCheckpoint: string | undefined,
  ) {
    super(
      `${failure.message}; training stopped. ` +
        (lastCheckpoint
          ? `The last good checkpoint is ${lastCheckpoint} (step ${/step-0*(\d+)/.exec(lastCheckpoint)?.[1] ?? '?'}).`
          : 'No checkpoint was written before it.') +
        ' Try a lower learning rate or a bound on log sigma.',
    );
    this.name = 'TrainingDivergedError';
  }
}

export { ResumeError };

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { spec, registry, model, dataset, runDir } = opts;
  const t = spec.train;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const out = opts.out ?? process.stdout;
  const log = new MetricsLog(runPath(runDir, 'metrics'));
  const checkpoints = runPath(runDir, 'checkpoints');

  const training = compileTraining(spec, registry);
  const handle: OptimizerHandle = training.createOptimizer();
  const pixelsPerImage = spec.input.size[0] * spec.input.size[1];

  const sampler = new BatchSampler(dataset, dataset.splits.train, t.batch_size, t.seed);
  let step = 0;
  let state: ObjectiveState = training.initialObjectiveState();
  let best: TrainResult['best'];
  let lastCheckpoint: string | undefined;
  let resumedFrom: number | undefined;

  if (opts.resume) {
    const loaded = readLatestCheckpoint(checkpoints, warn);
    if (!loaded) throw new ResumeError(`there is no checkpoint to resume from in ${checkpoints}`);
    const c = loaded.checkpoint;
    checkSameSpec(c.spec as ResolvedSpec, spec, loaded.dir);
    restoreWeights(model, c.weights);
    await restoreOptimizer(handle.optimizer, c.optimizer);
    step = c.meta.step;
    state = c.meta.objectiveState;
    if (c.meta.best) best = { ...c.meta.best, dir: runPath(runDir, 'best') };
    lastCheckpoint = loaded.dir;
    resumedFrom = step;
    log.truncateAfter(step);
    log.append({ event: 'resume', step, checkpoint: loaded.dir });
  } else {
    log.truncateAfter(0); // a fresh start in a folder a killed attempt left records in
  }
  const earlyStop = t.early_stop ? new EarlyStop(t.early_stop.patience, t.early_stop.min_delta, best) : undefined;

  const plugins = pluginVersions(registry, PUNET_VERSION);
  const snapshot = async (): Promise<Checkpoint> => {
    const optimizer = await captureOptimizer(handle.optimizer);
    return {
      meta: {
        format: 'punet-checkpoint',
        version: 1,
        step,
        rng: { seed: t.seed, step },
        objectiveState: state,
        best: best ? { step: best.step, ged: best.ged, score: best.score } : undefined,
        optimizerExtras: optimizer.extras,
        provenance: { specHash: opts.specHash, punetVersion: PUNET_VERSION, backend: tf.getBackend(), time: new Date().toISOString(), model: spec.model, plugins },
      },
      spec,
      weights: await captureWeights(model),
      optimizer: optimizer.tensors,
    };
  };
  const saveCheckpoint = async () => {
    lastCheckpoint = writeCheckpoint(checkpoints, await snapshot(), { keep: opts.keepCheckpoints ?? 2 });
    log.append({ event: 'checkpoint', step, dir: lastCheckpoint });
  };

  const progress = new Progress(out, t.steps);
  progress.start(step);
  if (resumedFrom !== undefined) progress.note(`resumed from ${lastCheckpoint} at step ${step}/${t.steps}`);
  let savedAt = resumedFrom ?? -1;

  const leaks = new LeakWatch(warn);
  while (step < t.steps) {
    let values: Record<string, number>;
    leaks.before();
    try {
      values = await trainHostBatch({
        model,
        training,
        handle,
        batch: sampler.batchAt(step),
        seed: tfSeed(t.seed, STREAM.latent, step),
        step,
        state,
      });
    } catch (err) {
      if (err instanceof NonFiniteLossError) {
        progress.finish();
        log.append({ event: 'non-finite', step: err.step, term: err.term, value: String(err.value) });
        throw new TrainingDivergedError(err, lastCheckpoint);
      }
      throw err;
    }
    leaks.after(step, resumedFrom ?? 0);
    state = training.nextObjectiveState(state, { reconstruction: values.reconstruction!, kl: values.KL!, pixelsPerImage });
    step++;
    log.append({ step, ...values });
    progress.update(step, values);

    if (t.validate_every > 0 && step % t.validate_every === 0 && dataset.splits.val.length > 0) {
      const v = await validate(model.segmenter, dataset, spec, registry, step);
      log.append({ event: 'validation', step, split: 'val', samples: t.validate_samples, ...validationRecord(v) });
      const improved = Number.isFinite(v.score) && (!best || v.score < (best.score ?? best.ged));
      if (improved) {
        best = { step, ged: v.ged, score: v.score, dir: runPath(runDir, 'best') };
        writeCheckpoint(best.dir, await snapshot(), { keep: 1 });
      }
      progress.note(validationLine(step, t, v, improved, best));
      const collapse = collapseWarning(step, v);
      if (collapse) {
        warn(collapse);
        log.append({ event: 'collapse-warning', step, message: collapse });
      }
      if (earlyStop?.shouldStop(v.ged)) {
        if (savedAt !== step) await saveCheckpoint();
        progress.finish();
        const reason = `no GED improvement larger than ${t.early_stop!.min_delta} in ${t.early_stop!.patience} validations`;
        log.append({ event: 'early-stop', step, reason, best_step: best?.step, best_ged: best?.ged });
        progress.note(`early stop at step ${step}: ${reason}; best GED ${best?.ged.toFixed(4)} at step ${best?.step}`);
        return { status: 'early-stopped', step, lastCheckpoint, best, resumedFrom };
      }
    }
    if ((t.checkpoint_every > 0 && step % t.checkpoint_every === 0) || step === t.steps) {
      await saveCheckpoint();
      savedAt = step;
    }
    // Let signal handlers run between steps (a step itself is synchronous).
    await new Promise((r) => setImmediate(r));
    if (opts.stop?.requested || step === opts.stopAfterStep) {
      if (savedAt !== step) await saveCheckpoint();
      progress.finish();
      log.append({ event: 'interrupted', step });
      return { status: 'interrupted', step, lastCheckpoint, best, resumedFrom };
    }
  }
  progress.finish();
  if (savedAt !== step) await saveCheckpoint(); // resumed a finished run
  return { status: 'completed', step, lastCheckpoint, best, resumedFrom };
}

/**
 * Patience counter for train.early_stop. On resume it restarts counting from the saved best:
 * a resumed run gets at most `patience` more validations, never fewer.
 */
export class EarlyStop {
  private bestValue: number;
  private since = 0;

  constructor(
    readonly patience: number,
    readonly minDelta: number,
    best?: { ged: number },
  ) {
    this.bestValue = best?.ged ?? Infinity;
  }

  /** Records one validation value (lower is better); true when patience has run out. */
  shouldStop(value: number): boolean {
    if (Number.isFinite(value) && value < this.bestValue - this.minDelta) {
      this.bestValue = value;
      this.since = 0;
      return false;
    }
    this.since++;
    return this.since >= this.patience;
  }
}

/**
 * Warns (once) when a training step leaves tensors behind: a plugin that keeps tensors
 * (tf.keep, tensors made outside tf.tidy) would otherwise exhaust memory over a long run. The
 * first step of a process is exempt: it creates the optimizer's slots.
 */
class LeakWatch {
  private count = 0;
  private warned = false;
  constructor(private readonly warn: (message: string) => void) {}
  before(): void {
    this.count = tf.memory().numTensors;
  }
  after(step: number, firstStep: number): void {
    const leaked = tf.memory().numTensors - this.count;
    if (step === firstStep || leaked <= 0 || this.warned) return;
    this.warned = true;
    this.warn(`training step ${step + 1} left ${leaked} tensor(s) behind; a plugin (loss, block, objective) probably creates tensors outside tf.tidy or keeps them; memory will grow every step`);
  }
}
