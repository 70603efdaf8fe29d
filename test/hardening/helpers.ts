/** Hardening tests: run the built `punet` binary and check that bad input ends cleanly. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ensureDist, STACK_LINE, TINY_SPEC } from '../cli/helpers.js';

export { tempDir, TINY_SPEC, STACK_LINE } from '../cli/helpers.js';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `punet ARGS` (dist/) as a child process with a hard timeout, so a hang fails the test instead of stalling it. */
export function punet(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Run {
  const start = Date.now();
  const r = spawnSync(process.execPath, [ensureDist(), ...args], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: { ...process.env, PUNET_WASM_THREADS: '1', ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 16 * 2 ** 20,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - start };
}

/** A clean refusal: exit `code`, the message on stderr, no stack trace, no "internal error". */
export function expectRefusal(r: Run, code: number, message: RegExp): void {
  const context = `exit ${r.code} signal ${r.signal}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`;
  expect(r.signal, context).toBeNull();
  expect(r.code, context).toBe(code);
  expect(r.stderr, context).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toContain('internal error');
}

/** The CLI test spec (16x16 synthetic, cpu) with `edit` applied to its text, written into `dir`. */
export function tinySpec(dir: string, edit: (text: string) => string = (t) => t, name = 'tiny.punet'): string {
  const file = join(dir, name);
  writeFileSync(file, edit(readFileSync(TINY_SPEC, 'utf8')));
  return file;
}

/** A plugin module file with `body` (its contributions object literal entries) under `name`. */
export function pluginFile(dir: string, file: string, name: string, body: string): string {
  const path = join(dir, file);
  writeFileSync(path, `const plugin = { name: '${name}', version: '1.0.0', punetApi: '^2.0.0', ${body} };\nexport default plugin;\n`);
  return path;
}
