/**
 * A real Slurm: 2 variants x 2 seeds of a tiny spec as one `sbatch --array` job, followed with
 * `punet sweep status` and compared with `punet compare`. Needs sbatch and a running cluster
 * (.ci/start-slurm.sh starts one on this machine). Skipped, visibly, where there is no sbatch;
 * PUNET_REQUIRE_SLURM=1 (set by .ci/run) turns that skip into a failure.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { punet, tempDir, tinySpec, until } from './helpers.js';

const hasSbatch = spawnSync('sbatch', ['--version'], { encoding: 'utf8' }).status === 0;
const required = process.env.PUNET_REQUIRE_SLURM === '1';

describe('punet sweep --engine slurm', () => {
  it.runIf(!hasSbatch && required)('sbatch is available (PUNET_REQUIRE_SLURM=1)', () => {
    expect.fail('sbatch is not installed or does not run: install slurm-wlm and munge and run .ci/start-slurm.sh');
  });
  const name = 'runs 2 variants x 2 seeds as one array job on a real Slurm';
  (hasSbatch ? it : it.skip)(hasSbatch ? name : `${name} (skipped: no sbatch on this machine)`, { timeout: 600_000 }, async () => {
    const idle = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
    expect(idle.status, `sinfo failed (${idle.stderr.trim()}): start the cluster with .ci/start-slurm.sh`).toBe(0);
    const dir = tempDir();
    const flat = tinySpec(dir, 'slurm-flat', 'steps: 4 steps\n validate_every: 2 steps\n checkpoint_every: 2 steps');
    const wide = join(dir, 'slurm-wide.punet');
    writeFileSync(wide, `extends "./slurm-flat.punet"\nmodel "slurm-wide" {\n  latent { size: 4 }\n}\n`);
    const sweep = join(dir, 'sweep');
    const r = punet(['sweep', flat, wide, '--seeds', '2', '--out', sweep, '--engine', 'slurm', '--max-parallel', '2', '--cpus', '1', '--time', '10:00']);
    expect(r.status, r.stderr).toBe(0);
    const jobId = /submitted Slurm array job (\d+) \(4 tasks/.exec(r.stdout)?.[1];
    expect(jobId, r.stdout).toBeDefined();
    console.log(`slurm sweep: submitted array job ${jobId} (4 tasks: 2 variants x 2 seeds)`);

    let status: { done: number; rows: Array<{ state: string; scheduler?: string }> } = { done: 0, rows: [] };
    const seen = new Set<string>();
    await until(() => {
      status = JSON.parse(punet(['sweep', 'status', sweep, '--json']).stdout);
      for (const row of status.rows) if (row.scheduler) seen.add(row.scheduler);
      return status.done === 4 || status.rows.some((row) => /FAIL|CANCEL|TIMEOUT/.test(row.scheduler ?? ''));
    }, 540_000, 'the Slurm array job', 2000);
    const table = punet(['sweep', 'status', sweep]);
    console.log(table.stdout.trimEnd());
    expect(status.done, table.stdout).toBe(4);
    expect(table.stdout).toContain(`tasks done: 4/4; last submission: slurm job ${jobId}`);
    // squeue saw the elements while they were queued or running
    expect([...seen].some((s) => /PENDING|RUNNING|COMPLETING/.test(s)), [...seen].join(',')).toBe(true);

    const compared = punet(['compare', sweep, '--html', join(dir, 'compare.html')]);
    expect(compared.status, compared.stderr).toBe(0);
    console.log(compared.stdout.trimEnd());
    expect(compared.stdout).toMatch(/ged, 4 samples .*pooled over the seed-matched runs/);
    expect(compared.stdout).toMatch(/\n\s+slurm-wide\s+2\s.*\s\d+ \(3,4\)\s/);
    expect(compared.stdout).toMatch(/\n\s+slurm-flat\s+2\s/);
    expect(compared.stdout).toMatch(/\n\s+slurm-wide\s+2\s/);
  });
});
