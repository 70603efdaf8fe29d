// The whole runtime on webgpu (with shaders): compile-and-train trains, checkpoints, samples,
// evaluates and draws its figures on the GPU backend; then the checkpoint moves to the cpu
// backend, where `punet eval` scores the same run (train on GPU, evaluate on CPU).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../runtime/cli/main.js';
import { readLatestCheckpoint } from '../../runtime/run/checkpoint.js';
import { webgpuErrors } from '../../runtime/backends/webgpu.js';
import { runInProcess, tempDir } from '../cli/helpers.js';
import { acquireWebGPU, repoRoot } from './support/webgpu-env.js';

const gpu = await acquireWebGPU();
const compileAndTrain = () => import('../../runtime/cli/commands/compile-and-train.js') as Promise<Command>;
const evaluate = () => import('../../runtime/cli/commands/eval.js') as Promise<Command>;

const spec = (example: string) => `extends "${join(repoRoot, 'examples', example)}"
model "gpu-runtime" {
  input { size: 16x16 px }
  eval { samples: [1, 4] }
  train { data synthetic { count: 24 }  batch_size: 4  validate_every: 2 steps  validate_samples: 2  checkpoint_every: 2 steps }
}
`;

function gedMeans(file: string): number[] {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  return ['1', '4'].map((n) => report.results[n].ged.mean as number);
}

describe.skipIf(!gpu.available)('the runtime on webgpu', () => {
  it.each(['prob-unet-tiny.punet', 'hierarchical-tiny.punet'])('%s: compile-and-train runs end to end on webgpu, and its checkpoint evaluates on cpu', async (example) => {
    const dir = tempDir();
    const specFile = join(dir, 'gpu.punet');
    writeFileSync(specFile, spec(example));
    const run = join(dir, 'run');

    const trained = await runInProcess(compileAndTrain, [specFile, '--backend', 'webgpu', '--steps', '4', '--out', run]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/^backend: webgpu \(adapter: /m);
    expect(webgpuErrors()).toEqual([]);
    const checkpoint = readLatestCheckpoint(join(run, 'checkpoints'))!.checkpoint;
    expect(checkpoint.meta.step).toBe(4);
    expect(checkpoint.meta.provenance.backend).toBe('webgpu');
    for (const f of ['eval.json', 'samples/sample-grid.png', 'samples/eval-grid.png', 'report.html']) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const onGpu = gedMeans(join(run, 'eval.json'));
    onGpu.forEach((g) => expect(g >= 0 && g <= 2, `GED ${g}`).toBe(true));

    const evaluated = await runInProcess(evaluate, [run, '--backend', 'cpu', '--samples', '1,4', '--checkpoint', 'last', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    // `punet eval` writes its own folder; the training-time eval.json stays the GPU one.
    const onCpu = gedMeans(join(run, 'eval', 'test-last-n1_4', 'eval.json'));
    expect(gedMeans(join(run, 'eval.json'))).toEqual(onGpu);
    onCpu.forEach((g) => expect(g >= 0 && g <= 2, `GED ${g}`).toBe(true));
  }, 300_000);
});
