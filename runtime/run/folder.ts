/**
 * The run folder: everything one training run leaves behind.
 *
 *   spec.json      the resolved spec as trained (with command-line overrides applied)
 *   run.json       how the run was started (spec file, data source, backend, punet version)
 *   checkpoints/   the latest checkpoints (runtime/run/checkpoint.ts)
 *   best/          the checkpoint with the best validation GED
 *   metrics.jsonl  one JSON object per line: training steps, validations, events
 *   eval.json      the evaluation on the test split
 *   samples/       sample images
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { namingPath, UserError } from '../cli/errors.js';

export const RUN_FILES = {
  spec: 'spec.json',
  run: 'run.json',
  checkpoints: 'checkpoints',
  best: 'best',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  samples: 'samples',
} as const;

export function runPath(runDir: string, entry: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[entry]);
}

/** `runs/<model>-<timestamp>` under `base`, made unique if two runs start in the same second. */
export function newRunDir(base: string, model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');
  const safeModel = model.replace(/[^A-Za-z0-9._-]+/g, '_');
  let dir = resolve(base, `${safeModel}-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = resolve(base, `${safeModel}-${stamp}-${i}`);
  return dir;
}

/** Writes a JSON file through a temporary name so readers never see half of it. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  namingPath(path, () => writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n'));
  renameSync(tmp, path);
}

/** Reads a run's JSON file; a damaged one (not JSON) is a one-line UserError naming it. */
export function readJson<T>(path: string): T {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${path} is damaged (not valid JSON: ${(e as Error).message}); restore it, or re-create the run`);
  }
}

/** The JSON-lines metrics log. */
export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(resolve(path, '..'), { recursive: true });
  }

  /** Every record gets a wall-clock `time` (ISO 8601) unless it brings its own. */
  append(record: Record<string, unknown>): void {
    namingPath(this.path, () => appendFileSync(this.path, JSON.stringify({ ...record, time: record.time ?? new Date().toISOString() }) + '\n'));
  }

  /** Drops records past `step` (work a killed run did after its last checkpoint, redone on resume). */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          const r = JSON.parse(line) as { step?: number };
          return typeof r.step !== 'number' || r.step <= step;
        } catch {
          return false; // a line cut short by a kill
        }
      });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, kept.map((l) => l + '\n').join(''));
    renameSync(tmp, this.path);
  }

  read(): Array<Record<string, unknown>> {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }
}
