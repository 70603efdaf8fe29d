/**
 * `punet sweep SPEC... [--grid PATH=V1,V2]... [--seeds N] --out SWEEP [--engine E]`: makes a
 * sweep folder (variants x grid x seeds, each task a resolved spec) and runs it on an engine;
 * `punet sweep status SWEEP` shows where it stands.
 */
import { resolve } from 'node:path';
import { intFlag, parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { readJson } from '../../run/folder.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import { readManifest, taskSpecPath, writeManifest, type Submission, type SweepManifest } from '../../sweep/manifest.js';
import { planSweep } from '../../sweep/plan.js';
import { formatStatus, sweepStatus } from '../../sweep/status.js';

export const summary = 'sweep variants x overrides x seeds on a local pool, Slurm or Kubernetes; `sweep status SWEEP`';

const HELP = `usage: punet sweep SPEC... --out SWEEP [--grid PATH=V1,V2,...]... [--seeds N] [--engine E] [options]
       punet sweep status SWEEP [--json]

Expands variants (the SPEC files) x grid (every combination of the --grid values, applied as
--set overrides) x seeds (N runs per combination, seeds train.seed, train.seed+1, ...) into a
sweep folder: manifest.json, specs/ (each task's resolved spec), runs/ (each task's run folder),
logs/. A spec's own \`sweep { seeds: N  grid: ["PATH=V1,V2"]  variants: ["./other.punet"] }\`
section gives the defaults; flags replace it. Running the same command again continues the
sweep (finished tasks are skipped, interrupted ones resume).

options:
  --out SWEEP          the sweep folder (required)
  --grid PATH=V1,V2    one grid axis (repeatable); values in .punet syntax, e.g. latent.size=2,6
  --seeds N            runs per variant and grid point (default 1)
  --engine E           local (default), slurm, kubernetes, or none (only write the folder)
${pluginHelp(23)}
local:
  --workers N          tasks at once (default: cores / PUNET_WASM_THREADS)
slurm (one sbatch --array job; each element runs 'punet sweep-task SWEEP $SLURM_ARRAY_TASK_ID'):
  --max-parallel M     at most M tasks at once (--array=0-(N-1)%M)
  --partition P, --time T (e.g. 2:00:00), --cpus N (per task, default 1), --gpus N
kubernetes (writes SWEEP/kubernetes-job.json, an Indexed Job, for kubectl apply -f):
  --image IMAGE        container image with punet installed (required)
  --volume-claim PVC   PersistentVolumeClaim holding the sweep folder, mounted at its path (required)
  --namespace NS, --max-parallel M, --cpus N, --gpus N
  -h, --help           this help`;

const OPTIONS = {
  out: { type: 'string' },
  grid: { type: 'string', multiple: true },
  seeds: { type: 'string' },
  engine: { type: 'string' },
  workers: { type: 'string' },
  'max-parallel': { type: 'string' },
  partition: { type: 'string' },
  time: { type: 'string' },
  cpus: { type: 'string' },
  gpus: { type: 'string' },
  image: { type: 'string' },
  'volume-claim': { type: 'string' },
  namespace: { type: 'string' },
  json: { type: 'boolean' },
  ...PLUGIN_FLAG,
} as const;

const ENGINES = ['local', 'slurm', 'kubernetes', 'none'] as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('sweep', argv, OPTIONS, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  const out = (s: string) => process.stdout.write(s);
  if (positionals[0] === 'status') return status(positionals.slice(1), Boolean(values.json), out);
  if (!positionals.length) throw new UserError(`sweep: no spec file given\n\n${HELP}`, EXIT.usage);
  if (!values.out) throw new UserError('sweep: --out SWEEP is required (the folder for the sweep)', EXIT.usage);
  const engine = (values.engine ?? 'local') as (typeof ENGINES)[number];
  if (!ENGINES.includes(engine)) throw new UserError(`sweep: --engine must be one of ${ENGINES.join(', ')}, got '${values.engine}'`, EXIT.usage);
  const int = (name: keyof typeof OPTIONS) => intFlag('sweep', name, values[name] as string | undefined);

  if (engine === 'kubernetes') {
    const { checkKubernetesOptions } = await import('../../sweep/engines/kubernetes.js');
    checkKubernetesOptions({ image: values.image, volumeClaim: values['volume-claim'] });
  }
  const dir = resolve(values.out);
  const manifest = await planSweep({ specs: positionals, grid: values.grid, seeds: int('seeds'), plugins: pluginFlags(values), out: dir, err: (s) => process.stderr.write(s) });
  out(`sweep: ${manifest.tasks.length} tasks (${manifest.specs.length} variant${manifest.specs.length > 1 ? 's' : ''} x ${manifest.tasks.length / manifest.specs.length / manifest.seeds} grid point(s) x ${manifest.seeds} seed${manifest.seeds > 1 ? 's' : ''}) in ${dir}\n`);
  switch (engine) {
    case 'none':
      out(`run a task with: punet sweep-task ${dir} INDEX\n`);
      return EXIT.ok;
    case 'local': {
      const { defaultWorkers, runLocal } = await import('../../sweep/engines/local.js');
      record(dir, manifest, { engine, time: new Date().toISOString() });
      const result = await runLocal(dir, manifest, int('workers') ?? defaultWorkers(), out);
      out(`tasks done: ${result.done}/${manifest.tasks.length}${result.failed.length ? `; failed: ${result.failed.map((t) => t.index).join(', ')} (run the same command again to retry them)` : ''}\n`);
      return result.failed.length ? EXIT.failure : EXIT.ok;
    }
    case 'slurm': {
      const { submitSlurm } = await import('../../sweep/engines/slurm.js');
      const { jobId, file } = submitSlurm(dir, manifest, {
        maxParallel: int('max-parallel'),
        partition: values.partition,
        time: values.time,
        cpus: int('cpus'),
        gpus: int('gpus'),
      });
      record(dir, manifest, { engine, time: new Date().toISOString(), jobId, file });
      out(`submitted Slurm array job ${jobId} (${manifest.tasks.length} tasks, script ${file})\nfollow it with: punet sweep status ${dir}\n`);
      return EXIT.ok;
    }
    case 'kubernetes': {
      const { writeKubernetesJob } = await import('../../sweep/engines/kubernetes.js');
      const file = writeKubernetesJob(dir, manifest, {
        image: values.image ?? '',
        volumeClaim: values['volume-claim'] ?? '',
        namespace: values.namespace,
        maxParallel: int('max-parallel'),
        cpus: int('cpus'),
        gpus: int('gpus'),
      });
      record(dir, manifest, { engine, time: new Date().toISOString(), file });
      out(`wrote the Indexed Job ${file}\nsubmit it with: kubectl apply -f ${file}\nfollow it with: punet sweep status ${dir}\n`);
      return EXIT.ok;
    }
  }
}

function record(dir: string, m: SweepManifest, s: Submission): void {
  m.submissions.push(s);
  writeManifest(dir, m);
}

async function status(rest: string[], json: boolean, out: (s: string) => void): Promise<number> {
  if (rest.length !== 1) throw new UserError('sweep status: give one sweep folder: punet sweep status SWEEP', EXIT.usage);
  const dir = resolve(rest[0]!);
  const m = readManifest(dir);
  const s = sweepStatus(dir, m);
  if (json) {
    out(JSON.stringify({ sweep: dir, tasks: m.tasks.length, done: s.done, rows: s.rows, note: s.note ?? null }, null, 2) + '\n');
    return EXIT.ok;
  }
  const steps = (i: number) => {
    try {
      return readJson<ResolvedSpec>(taskSpecPath(dir, m.tasks[i]!)).train.steps;
    } catch {
      return undefined;
    }
  };
  out(formatStatus(s.rows, steps) + '\n');
  out(`tasks done: ${s.done}/${m.tasks.length}${s.note ? `; ${s.note}` : ''}\n`);
  return EXIT.ok;
}
