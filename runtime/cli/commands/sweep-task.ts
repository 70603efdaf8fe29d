/** `punet sweep-task SWEEP INDEX`: runs (or resumes, or skips when done) one task of a sweep. */
import { parseCommandArgs } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { runSweepTask } from '../../sweep/task.js';

export const summary = 'run one task of a sweep folder (what each Slurm/Kubernetes array element runs)';

const HELP = `usage: punet sweep-task SWEEP INDEX

Runs task INDEX (0-based) of the sweep folder SWEEP: trains its spec into SWEEP/runs/NAME.
Idempotent: a finished task is skipped, a task with a checkpoint (killed, preempted,
re-submitted) resumes from it. Engines run this; you can run it by hand too.`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('sweep-task', argv, {}, HELP);
  if (!args) return EXIT.ok;
  const [dir, index] = args.positionals;
  if (!dir || index === undefined || args.positionals.length !== 2) throw new UserError(`sweep-task: expected SWEEP INDEX\n\n${HELP}`, EXIT.usage);
  const i = Number(index);
  if (!/^\d+$/.test(index)) throw new UserError(`sweep-task: INDEX must be a task number (0, 1, ...), got '${index}'`, EXIT.usage);
  return runSweepTask(dir, i, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
