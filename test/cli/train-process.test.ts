/**
 * compile-and-train as a real process (dist/): killed with SIGKILL mid-run and resumed, the final
 * weights and optimizer state are byte-identical to an uninterrupted run; Ctrl-C (SIGINT)
 * checkpoints and exits 130 with resume instructions. Then `sample` and `eval` on the run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, readLatestCheckpoint } from '../../runtime/run/checkpoint.js';
import { MetricsLog } from '../../runtime/run/folder.js';
import { ensureDist, exited, runInProcess, spawnPunet, STACK_LINE, tempDir, TINY_SPEC, waitFor } from './helpers.js';

beforeAll(() => {
  ensureDist();
}, 300_000);

const STEPS = '12';

describe('compile-and-train process', () => {
  it('resumes a SIGKILLed run bit-for-bit, then sample and eval work on the run', async () => {
    const base = tempDir();
    const a = join(base, 'straight');
    const b = join(base, 'killed');
    const straight = spawnPunet(['compile-and-train', TINY_SPEC, '--steps', STEPS, '--out', a]);
    const killed = spawnPunet(['compile-and-train', TINY_SPEC, '--steps', STEPS, '--out', b]);
    await waitFor(() => listCheckpoints(join(b, 'checkpoints')).some((c) => c.step >= 4), 120_000, 'a checkpoint at step >= 4');
    killed.kill('SIGKILL');
    const k = await exited(killed);
    expect(k.signal).toBe('SIGKILL');
    expect(existsSync(join(b, 'eval.json'))).toBe(false); // it really was cut short

    const resumed = spawnPunet(['compile-and-train', TINY_SPEC, '--steps', STEPS, '--out', b, '--resume']);
    const r = await exited(resumed);
    expect(r.code, resumed.output().stderr).toBe(0);
    expect(resumed.output().stdout).toMatch(/resumed from .*step-\d+ at step \d+\/12/);
    const s = await exited(straight);
    expect(s.code, straight.output().stderr).toBe(0);
    expect(straight.output().stdout).toMatch(/run: +.*straight\nsamples: +.*sample-grid\.png.*\n(latent grid: +.*latent-grid-.*\.png\n)?evaluation: +.*eval\.json/);

    const ca = readLatestCheckpoint(join(a, 'checkpoints'))!.checkpoint;
    const cb = readLatestCheckpoint(join(b, 'checkpoints'))!.checkpoint;
    expect(cb.meta.step).toBe(12);
    expect(cb.weights.map((w) => w.name)).toEqual(ca.weights.map((w) => w.name));
    ca.weights.forEach((w, i) => expect(Buffer.from(cb.weights[i]!.data.buffer).equals(Buffer.from(w.data.buffer)), w.name).toBe(true));
    ca.optimizer.forEach((t, i) => expect(Buffer.from(cb.optimizer[i]!.data.buffer).equals(Buffer.from(t.data.buffer)), t.name).toBe(true));
    // the step log of the resumed run has each step once, with the same losses
    const steps = (dir: string) => new MetricsLog(join(dir, 'metrics.jsonl')).read().filter((x) => x.loss !== undefined).map(({ time: _time, ...rest }) => rest); // wall-clock stamps differ
    expect(steps(b).map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(steps(b)).toEqual(steps(a));

    // sample + eval on the finished run, in-process
    const out = join(base, 'samples');
    const sampled = await runInProcess(() => import('../../runtime/cli/commands/sample.js'), [a, '-n', '5', '--limit', '2', '--out', out, '--backend', 'cpu']);
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(sampled.stdout).toMatch(/2 image\(s\) x 5 samples/);
    const files = readdirSync(out);
    expect(files).toContain('sample-grid.png');
    expect(files.filter((f) => /-sample-\d+\.png$/.test(f))).toHaveLength(10);
    expect(files.filter((f) => /-frequency\.png$/.test(f))).toHaveLength(2);

    const evaluated = await runInProcess(() => import('../../runtime/cli/commands/eval.js'), [a, '--samples', '1,2', '--json', '--backend', 'cpu']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout) as { results: Record<string, Record<string, { mean: number | null }>>; sampleCounts: number[] };
    expect(report.sampleCounts).toEqual([1, 2]);
    for (const id of ['ged', 'hungarian-iou', 'ncc', 'mode-tv']) expect(report.results['2']![id], id).toBeDefined();
    expect(report.results['2']!.ged!.mean).toBeGreaterThanOrEqual(0);

    // a trained run is never overwritten by accident
    const again = await runInProcess(() => import('../../runtime/cli/commands/compile-and-train.js'), [TINY_SPEC, '--out', a]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a trained run; continue it with --resume, or choose another --out/);
  }, 300_000);

  it('on SIGINT saves a checkpoint at the current step and exits 130 saying how to resume', async () => {
    const dir = join(tempDir(), 'run');
    const child = spawnPunet(['compile-and-train', TINY_SPEC, '--steps', '40', '--out', dir]);
    await waitFor(() => listCheckpoints(join(dir, 'checkpoints')).length > 0, 120_000, 'the first checkpoint');
    child.kill('SIGINT');
    const e = await exited(child);
    const { stderr } = child.output();
    expect(e.code, stderr).toBe(130);
    const stopped = /stopped at step (\d+)\/40; checkpoint saved in (.*)\n/.exec(stderr);
    expect(stopped, stderr).not.toBeNull();
    expect(stderr).toContain(`resume with: compile-and-train ${TINY_SPEC} --out ${dir} --resume --steps 40`);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(readLatestCheckpoint(join(dir, 'checkpoints'))!.checkpoint.meta.step).toBe(Number(stopped![1]));
  }, 300_000);
});
