/**
 * The README's set-up line, as written, in this checkout: its `npx compile-and-train` must find
 * the package's own bin and run it (npx executes the file, so the build marks it executable).
 * Trained for 2 steps here instead of the spec's 1000.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../cli/helpers.js';

describe("the README's main command", () => {
  it('runs from the checkout through npx', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const setup = /^npm ci && (npx compile-and-train \S+)/m.exec(readme);
    expect(setup, 'README has no `npm ci && npx compile-and-train SPEC` line').not.toBeNull();
    const [npx, ...args] = setup![1]!.split(' ');
    for (const bin of ['punet', 'compile-and-train']) {
      expect(statSync(join(ROOT, `dist/runtime/cli/bin/${bin}.js`)).mode & 0o111, `${bin} is not executable`).not.toBe(0);
    }
    const out = join(tempDir('punet-readme-'), 'run');
    const run = spawnSync(npx!, ['--no-install', ...args, '--steps', '2', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PUNET_WASM_THREADS: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/evaluation: .*eval\.json/);
  });
});
