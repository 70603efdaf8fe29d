// A process that used webgpu must end by itself: Dawn handles left open would keep Node's event
// loop alive and hang CLI commands and CI. Runs the backend in a child `node` process (the
// TypeScript sources transpiled to .cache/gpu-build/) with a deadline.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireWebGPU } from './support/webgpu-env.js';
import { transpileGpuModules, repoRoot } from './support/transpile.mjs';

const gpu = await acquireWebGPU();
const DEADLINE_MS = 30_000;
/** After the script's last line, the process must be gone within this (Dawn teardown). */
const EXIT_GRACE_MS = 5_000;

interface ChildOutcome {
  code: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  wallMs: number;
}

function runChild(buildDir: string, mode: 'natural' | 'release'): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'test/gpu/support/exit-child.mjs'), buildDir, mode], {
      cwd: repoRoot,
      env: process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

describe.skipIf(!gpu.available)('process exit after using webgpu', () => {
  const buildDir: string = transpileGpuModules(join(repoRoot, '.cache', 'gpu-build', `exit-${process.pid}`));
  afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

  for (const mode of ['natural', 'release'] as const) {
    it(`ends by itself after training steps (${mode === 'natural' ? 'no teardown' : 'releaseWebGPU()'})`, async () => {
      const out = await runChild(buildDir, mode);
      expect(out.timedOut, `child still running after ${DEADLINE_MS} ms; stderr: ${out.stderr}`).toBe(false);
      expect(out.code, out.stdout + out.stderr).toBe(0);
      const report = JSON.parse(out.stdout.trim().split('\n').pop()!) as { ok: boolean; backend: string; losses: number[]; scriptEndMs: number };
      expect(report.backend).toBe(mode === 'natural' ? 'webgpu' : 'cpu');
      expect(report.losses).toHaveLength(3);
      for (const l of report.losses) expect(Number.isFinite(l)).toBe(true);
      // The child's clock started at its launch; wall time includes spawning, so this bounds how
      // long the process lived after its last statement.
      expect(out.wallMs - report.scriptEndMs).toBeLessThan(EXIT_GRACE_MS);
    }, DEADLINE_MS + 10_000);
  }
});
