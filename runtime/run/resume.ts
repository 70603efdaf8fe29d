/**
 * What `--resume` checks before anything in the run folder is touched: the folder is a run with
 * a verified checkpoint, trained with the same spec (only the step count may change) and not
 * beyond the requested step count.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedSpec } from '../../spec/types.js';
import { UserError } from '../cli/errors.js';
import { listCheckpoints, verifyCheckpoint } from './checkpoint.js';
import { runPath } from './folder.js';

/** Thrown when resuming would train something other than what the checkpoint holds. */
export class ResumeError extends UserError {
  override name = 'ResumeError';
}

/** Validates a resume of `runDir` with `spec` without writing anything; returns the checkpoint step. */
export function checkResumable(runDir: string, spec: ResolvedSpec, shown: string): number {
  if (!existsSync(runDir)) throw new ResumeError(`cannot resume: run folder ${shown} does not exist`);
  const store = runPath(runDir, 'checkpoints');
  const good = listCheckpoints(store).find((c) => verifyCheckpoint(join(store, c.name)) === undefined);
  if (!good) throw new ResumeError(`cannot resume: ${shown} holds no complete checkpoint (is it a punet run folder?); start a new run without --resume`);
  const dir = join(store, good.name);
  let saved: ResolvedSpec;
  try {
    saved = JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')) as ResolvedSpec;
  } catch {
    throw new ResumeError(`cannot resume: ${join(dir, 'spec.json')} is not valid JSON; start a new run`);
  }
  checkSameSpec(saved, spec, dir);
  if (spec.train.steps < good.step) {
    throw new ResumeError(
      `cannot resume: the run in ${shown} has already trained ${good.step} steps and --steps/train.steps asks for ${spec.train.steps}; ` +
        `give --steps ${good.step} or more`,
    );
  }
  return good.step;
}

/** Resuming with a different model or loss would silently train something else: refuse. */
export function checkSameSpec(saved: ResolvedSpec, current: ResolvedSpec, dir: string): void {
  const strip = (s: ResolvedSpec) => ({ ...s, train: { ...s.train, steps: 0 } });
  const a = strip(saved) as unknown as Record<string, unknown>;
  const b = strip(current) as unknown as Record<string, unknown>;
  const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
  if (differing.length) {
    throw new ResumeError(
      `the spec differs from the one the checkpoint in ${dir} was trained with (in: ${differing.join(', ')}); ` +
        'resume with the same spec and options (only --steps may change), or start a new run with a different --out',
    );
  }
}
