/**
 * One sweep task, as every engine runs it (`punet sweep-task SWEEP INDEX`): idempotent and
 * resumable. A finished run is left alone; a run with a checkpoint (a killed or preempted task,
 * a re-submitted array element) continues with compile-and-train's --resume; otherwise it
 * starts. The spec is checked against the resolved spec saved when the sweep was made, so a spec
 * file edited in between cannot silently mix two experiments in one sweep.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../cli/errors.js';
import { readJson } from '../run/folder.js';
import { loadSpecOrFail } from '../run/session.js';
import { readManifest, taskAt, taskProgress, taskRunDir, taskSpecPath } from './manifest.js';

export async function runSweepTask(dir: string, index: number, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const manifest = readManifest(dir);
  const task = taskAt(manifest, index, dir);
  const runDir = taskRunDir(dir, task);
  const progress = taskProgress(dir, task);
  const label = `sweep task ${index}/${manifest.tasks.length} (${task.name})`;
  if (progress.state === 'done') {
    out(`${label}: already done (${runDir})\n`);
    return 0;
  }
  const plugins = manifest.plugins ?? [];
  const now = await loadSpecOrFail(task.spec, err, task.overrides, plugins);
  const saved = taskSpecPath(dir, task);
  if (existsSync(saved) && JSON.stringify(readJson(saved)) !== JSON.stringify(now.spec)) {
    throw new UserError(`${task.spec} changed since the sweep was made (its resolved spec differs from ${saved}); restore it, or make a new sweep in another folder`);
  }
  const resume = progress.state === 'started';
  out(`${label}: ${resume ? `resuming from step ${progress.step}` : 'starting'}\n`);
  const { run } = await import('../cli/commands/compile-and-train.js');
  const argv = [task.spec, '--out', runDir, ...task.overrides.flatMap((s) => ['--set', s]), ...(resume ? ['--resume'] : []), ...plugins.flatMap((p) => ['--plugin', p])];
  const code = await run(argv);
  out(`${label}: ${code === 0 ? 'done' : `exit ${code}`}\n`);
  return code;
}
