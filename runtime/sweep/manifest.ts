/**
 * The sweep folder: one manifest, one resolved spec per task, one run folder per task.
 *
 *   manifest.json   the plan: source specs, grid, seeds, tasks (index -> spec + overrides), submissions
 *   specs/NAME.json the resolved spec of each task, as checked when the sweep was made
 *   runs/NAME/      each task's run folder (what compile-and-train writes)
 *   logs/           task output (local engine) and Slurm's output files
 *
 * A task's state comes from its run folder only, so any engine (or a person re-running
 * `punet sweep-task`) sees the same picture.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../cli/errors.js';
import { listCheckpoints } from '../run/checkpoint.js';
import { readJson, runPath, writeJsonAtomic } from '../run/folder.js';

export interface SweepTask {
  index: number;
  /** Folder-safe, unique: `<index>-<model>[-<overrides>]-seed<seed>`. */
  name: string;
  /** The model name of the variant (from its spec). */
  variant: string;
  /** Absolute path of the .punet file. */
  spec: string;
  /** `--set` overrides of this task, the seed included (`train.seed=N`). */
  overrides: string[];
  seed: number;
}

export interface GridAxis {
  path: string;
  values: string[];
}

export interface Submission {
  engine: 'local' | 'slurm' | 'kubernetes';
  time: string;
  /** Slurm: the array job id. */
  jobId?: string;
  /** Slurm batch script or Kubernetes manifest written for this submission. */
  file?: string;
}

export interface SweepManifest {
  format: 'punet-sweep';
  version: 1;
  created: string;
  punetVersion: string;
  /** The variant spec files, absolute. */
  specs: string[];
  grid: GridAxis[];
  /** Seeds per variant (added to each variant's train.seed). */
  seeds: number;
  tasks: SweepTask[];
  submissions: Submission[];
  /** `--plugin` modules (absolute files) every task registers, as `punet sweep --plugin` named them. */
  plugins?: string[];
}

export const SWEEP_FILES = { manifest: 'manifest.json', specs: 'specs', runs: 'runs', logs: 'logs' } as const;

export const manifestPath = (dir: string) => join(dir, SWEEP_FILES.manifest);
export const taskRunDir = (dir: string, task: SweepTask) => join(dir, SWEEP_FILES.runs, task.name);
export const taskSpecPath = (dir: string, task: SweepTask) => join(dir, SWEEP_FILES.specs, `${task.name}.json`);
export const logsDir = (dir: string) => join(dir, SWEEP_FILES.logs);

export function isSweepDir(dir: string): boolean {
  return existsSync(manifestPath(dir));
}

export function readManifest(dir: string): SweepManifest {
  const file = manifestPath(resolve(dir));
  if (!existsSync(file)) throw new UserError(`${dir} is not a sweep folder (no ${SWEEP_FILES.manifest}); make one with 'punet sweep SPEC... --out ${dir}'`);
  let m: SweepManifest;
  try {
    m = readJson<SweepManifest>(file);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== 'punet-sweep' || !Array.isArray(m.tasks)) throw new UserError(`${file} is not a punet sweep manifest`);
  return m;
}

export function writeManifest(dir: string, m: SweepManifest): void {
  writeJsonAtomic(manifestPath(dir), m);
}

export function taskAt(m: SweepManifest, index: number, dir: string): SweepTask {
  const task = m.tasks[index];
  if (!task) throw new UserError(`task ${index} does not exist in ${dir}: it has tasks 0-${m.tasks.length - 1}`);
  return task;
}

export type TaskState = 'done' | 'started' | 'pending';

export interface TaskProgress {
  state: TaskState;
  /** Steps of the last checkpoint (started) or of the finished run. */
  step?: number;
}

/** Done = compile-and-train finished (run.json has `ended`); started = it left a checkpoint. */
export function taskProgress(dir: string, task: SweepTask): TaskProgress {
  const run = taskRunDir(dir, task);
  const info = existsSync(runPath(run, 'run')) ? safeRead<{ ended?: string }>(runPath(run, 'run')) : undefined;
  // A checkpoint is complete once its manifest is written (a kill can leave a partial one).
  const store = runPath(run, 'checkpoints');
  const checkpoints = listCheckpoints(store).filter((c) => existsSync(join(store, c.name, 'manifest.json')));
  const step = checkpoints[0]?.step;
  if (info?.ended) return { state: 'done', ...(step === undefined ? {} : { step }) };
  if (checkpoints.length) return { state: 'started', ...(step === undefined ? {} : { step }) };
  return { state: 'pending' };
}

function safeRead<T>(file: string): T | undefined {
  try {
    return readJson<T>(file);
  } catch {
    return undefined;
  }
}

/** Run folders of a sweep that have an eval.json (for `punet compare`). */
export function finishedRunDirs(dir: string): string[] {
  const runs = join(dir, SWEEP_FILES.runs);
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .sort()
    .map((n) => join(runs, n))
    .filter((r) => existsSync(runPath(r, 'eval')));
}
