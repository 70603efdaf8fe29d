/**
 * Sweeps through the built CLI: the local engine (with provenance and early stopping in its
 * runs), a killed task that resumes, and the Kubernetes Job manifest against the Kubernetes
 * schema. The Slurm engine has its own file (slurm.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Job } from 'kubernetes-models/batch/v1';
import { parseGridAxis } from '../../runtime/sweep/plan.js';
import { gitCommitOf } from '../../runtime/run/provenance.js';
import { jsonLines, punet, punetChild, ROOT, tempDir, tinySpec, until } from './helpers.js';

describe('grid axes', () => {
  it('split values at top-level commas only', () => {
    expect(parseGridAxis('train.optimizer.lr=1e-3,1e-2', '--grid')).toEqual({ path: 'train.optimizer.lr', values: ['1e-3', '1e-2'] });
    expect(parseGridAxis('unet.widths=[4, 8],[8,16]', '--grid').values).toEqual(['[4, 8]', '[8,16]']);
    expect(parseGridAxis('train.data.path="a,b",c', '--grid').values).toEqual(['"a,b"', 'c']);
    expect(() => parseGridAxis('latent.size=2,,3', '--grid')).toThrow(/empty value/);
    expect(() => parseGridAxis('=2', '--grid')).toThrow(/expected PATH=V1,V2/);
  });
});

describe('punet sweep --engine local', () => {
  it('runs every grid point, records provenance, stops early, and a second run has nothing left to do', { timeout: 240_000 }, () => {
    const dir = tempDir();
    // min_delta 100: no validation counts as an improvement, so patience 2 ends training at the 3rd validation (step 6 of 10).
    const spec = tinySpec(dir, 'sw-local', 'steps: 10 steps\n validate_every: 2 steps\n checkpoint_every: 5 steps\n early_stop { patience: 2 validations  min_delta: 100 }');
    const sweep = join(dir, 'sweep');
    const r = punet(['sweep', spec, '--grid', 'latent.size=2,3', '--out', sweep, '--workers', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('sweep: 2 tasks (1 variant x 2 grid point(s) x 1 seed)');
    expect(r.stdout).toContain('tasks done: 2/2');
    const manifest = JSON.parse(readFileSync(join(sweep, 'manifest.json'), 'utf8'));
    expect(manifest.tasks.map((t: { overrides: string[] }) => t.overrides)).toEqual([['latent.size=2', 'train.seed=3'], ['latent.size=3', 'train.seed=3']]);
    for (const [i, task] of manifest.tasks.entries()) {
      const resolved = JSON.parse(readFileSync(join(sweep, 'specs', `${task.name}.json`), 'utf8'));
      expect(resolved.latent.size).toBe(2 + i);
      const run = join(sweep, 'runs', task.name);
      const info = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'));
      expect(Date.parse(info.ended) - Date.parse(info.started)).toBeCloseTo(info.durationSeconds * 1000, -3);
      expect(info.host).toBeTypeOf('string');
      expect(info.backend).toMatch(/^backend: cpu/);
      expect(info.punetVersion).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
      expect(info.earlyStopped).toBe(6);
      const metrics = jsonLines(join(run, 'metrics.jsonl'));
      expect(metrics.every((m) => typeof m.time === 'string' && !Number.isNaN(Date.parse(m.time as string)))).toBe(true);
      expect(metrics.filter((m) => m.event === 'validation').map((m) => m.step)).toEqual([2, 4, 6]);
      expect(metrics.find((m) => m.event === 'early-stop')).toMatchObject({ step: 6, reason: 'no GED improvement larger than 100 in 2 validations' });
      expect(Math.max(...metrics.map((m) => (typeof m.step === 'number' ? m.step : 0)))).toBe(6);
      expect(existsSync(join(run, 'eval.json'))).toBe(true);
    }
    const again = punet(['sweep', spec, '--grid', 'latent.size=2,3', '--out', sweep]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('0 of 2 tasks to run');
    const status = JSON.parse(punet(['sweep', 'status', sweep, '--json']).stdout);
    expect(status).toMatchObject({ tasks: 2, done: 2 });
    // a different plan in the same folder is refused
    const other = punet(['sweep', spec, '--grid', 'latent.size=4', '--out', sweep, '--engine', 'none']);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('already holds a different sweep');
  });

  it('the git commit of the spec folder goes into run.json when there is one', () => {
    const head = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    expect(gitCommitOf(join(ROOT, 'examples'))?.commit).toBe(head);
    expect(gitCommitOf(tempDir())).toBeUndefined();
  });

  it('bad grids and options fail with one line naming them', () => {
    const dir = tempDir();
    const spec = tinySpec(dir, 'sw-bad', 'steps: 2 steps');
    const bad = punet(['sweep', spec, '--grid', 'latent.size=2,x', '--out', join(dir, 's'), '--engine', 'none']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--set latent.size=x:1:13: error E305');
    const engine = punet(['sweep', spec, '--out', join(dir, 's'), '--engine', 'pbs']);
    expect(engine.status).toBe(2);
    expect(engine.stderr).toContain("--engine must be one of local, slurm, kubernetes, none, got 'pbs'");
  });
});

describe('punet sweep-task', () => {
  it('a killed task resumes from its last checkpoint when run again', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const spec = tinySpec(dir, 'sw-kill', 'steps: 40 steps\n validate_every: 0\n checkpoint_every: 2 steps');
    const sweep = join(dir, 'sweep');
    expect(punet(['sweep', spec, '--out', sweep, '--engine', 'none']).status).toBe(0);
    const run = join(sweep, 'runs', '0-sw-kill-seed3');
    const child = punetChild(['sweep-task', sweep, '0']);
    const checkpoints = join(run, 'checkpoints');
    await until(() => existsSync(checkpoints) && readdirSync(checkpoints).some((n) => /^step-\d+$/.test(n) && existsSync(join(checkpoints, n, 'manifest.json'))), 120_000, 'a first checkpoint', 25);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const status = JSON.parse(punet(['sweep', 'status', sweep, '--json']).stdout);
    expect(status.rows[0].state).toBe('started');
    const killedAt = status.rows[0].step as number;
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(40);

    const again = punet(['sweep-task', sweep, '0']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`sweep task 0/1 (0-sw-kill-seed3): resuming from step ${killedAt}`);
    expect(again.stdout).toContain(`resumed from ${join(checkpoints, `step-${String(killedAt).padStart(8, '0')}`)}`);
    // every step logged exactly once, the killed attempt's extra steps dropped
    const steps = jsonLines(join(run, 'metrics.jsonl')).filter((m) => m.event === undefined).map((m) => m.step);
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // done now: a third run leaves it alone
    const third = punet(['sweep-task', sweep, '0']);
    expect(third.stdout).toContain('already done');
  });
});

describe('punet sweep --engine kubernetes', () => {
  it('writes an Indexed Job that validates against the Kubernetes schema', () => {
    const dir = tempDir();
    const spec = tinySpec(dir, 'sw-k8s', 'steps: 2 steps');
    const sweep = join(dir, 'sweep');
    const r = punet(['sweep', spec, '--seeds', '3', '--out', sweep, '--engine', 'kubernetes', '--image', 'registry.example/punet:0.1', '--volume-claim', 'punet-sweeps', '--max-parallel', '2', '--cpus', '2']);
    expect(r.status, r.stderr).toBe(0);
    const file = join(sweep, 'kubernetes-job.json');
    expect(r.stdout).toContain(`kubectl apply -f ${file}`);
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    expect(() => new Job(manifest).validate()).not.toThrow();
    expect(manifest.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 2 });
    const container = manifest.spec.template.spec.containers[0];
    expect(container.args).toEqual(['sweep-task', sweep, '$(JOB_COMPLETION_INDEX)']);
    expect(container.volumeMounts).toEqual([{ name: 'sweep', mountPath: sweep }]);
    expect(manifest.spec.template.spec.volumes[0].persistentVolumeClaim.claimName).toBe('punet-sweeps');
    // the validator does reject what Kubernetes would: a wrong type, a missing container list
    expect(() => new Job({ ...manifest, spec: { ...manifest.spec, completions: '3' } }).validate()).toThrow(/completions must be integer/);
    expect(() => new Job({ ...manifest, spec: { ...manifest.spec, template: { spec: {} } } }).validate()).toThrow(/containers/);

    const noImage = punet(['sweep', spec, '--out', join(dir, 's2'), '--engine', 'kubernetes']);
    expect(noImage.status).toBe(2);
    expect(noImage.stderr).toContain('--engine kubernetes needs --image IMAGE');
  });
});
