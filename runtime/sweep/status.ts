/** `punet sweep status`: each task's state from its run folder, and Slurm's view of the last array job. */
import { slurmStates } from './engines/slurm.js';
import { taskProgress, type SweepManifest } from './manifest.js';

export interface StatusRow {
  index: number;
  name: string;
  state: string;
  step: number | undefined;
  scheduler?: string;
}

export function sweepStatus(dir: string, m: SweepManifest): { rows: StatusRow[]; done: number; note?: string } {
  const last = m.submissions.at(-1);
  const slurm = last?.engine === 'slurm' && last.jobId ? slurmStates(last.jobId) : undefined;
  const rows = m.tasks.map((t) => {
    const p = taskProgress(dir, t);
    const scheduler = slurm?.states.get(t.index);
    return { index: t.index, name: t.name, state: p.state, step: p.step, ...(scheduler ? { scheduler } : {}) };
  });
  const done = rows.filter((r) => r.state === 'done').length;
  const note = last ? `last submission: ${last.engine}${last.jobId ? ` job ${last.jobId}` : ''} at ${last.time}${slurm ? ` (Slurm states from ${slurm.source})` : ''}` : undefined;
  return { rows, done, ...(note ? { note } : {}) };
}

export function formatStatus(rows: StatusRow[], steps: (i: number) => number | undefined): string {
  const header = ['task', 'name', 'state', 'step', 'slurm'];
  const body = rows.map((r) => [String(r.index), r.name, r.state, r.step === undefined ? '-' : `${r.step}/${steps(r.index) ?? '?'}`, r.scheduler ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [header, ...body].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
