/** CLI test helpers: run a command in-process capturing its output, or as a child on dist/. */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { runCommand, type Command } from '../../runtime/cli/main.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TINY_SPEC = join(ROOT, 'test/cli/fixtures/tiny.punet');

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command module through the dispatcher's error handling, capturing stdout and stderr. */
export async function runInProcess(load: () => Promise<Command>, argv: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCommand(await load(), argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A stack trace line, which user-facing errors must never show. */
export const STACK_LINE = /^\s+at .+[:(]\d+/m;

export function tempDir(prefix = 'punet-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** dist/ is what the `punet` binary runs; `npm test` builds it first. Built here when missing. */
export function ensureDist(): string {
  const main = join(ROOT, 'dist/runtime/cli/bin/punet.js');
  if (!existsSync(main)) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'ignore' });
    } catch {
      // tsc exits non-zero on type errors in files under construction but still emits.
    }
  }
  if (!existsSync(main)) throw new Error('dist/ could not be built: run `npm run build`');
  return main;
}

export function spawnPunet(args: string[], opts: { cwd?: string } = {}): ChildProcess & { output: () => Captured } {
  const child = spawn(process.execPath, [ensureDist(), ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return Object.assign(child, { output: () => ({ code: child.exitCode ?? -1, stdout, stderr }) });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Polls until `check` is true (or throws after `ms`). */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs one of the package's bins (dist/runtime/cli/bin/NAME.js) to completion, as npm's symlink would. */
export function runBin(bin: 'punet' | 'compile-and-train', args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}) {
  ensureDist();
  const run = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), join(ROOT, `dist/runtime/cli/bin/${bin}.js`), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, PUNET_WASM_THREADS: '1', ...opts.env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
