/** Sweep test helpers: tiny specs in a temp folder, the built `punet` binary as a child process. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'dist/runtime/cli/bin/punet.js');
const FIXTURE = join(ROOT, 'test/cli/fixtures/tiny.punet');

/** A 16x16 spec extending the CLI fixture, with `train` settings replaced by `train`. */
export function tinySpec(dir: string, name: string, train: string, extra = ''): string {
  const file = join(dir, `${name}.punet`);
  writeFileSync(file, `extends "${FIXTURE}"\nmodel "${name}" {\n  eval { metrics: [ged, hungarian-iou] }\n  train {\n${train}\n  }\n${extra}}\n`);
  return file;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'punet-sweep-'));
}

/** Children get one wasm thread each (the sweep tests run several at once on CI's 2 cores). */
const ENV = { ...process.env, PUNET_WASM_THREADS: '1' };

export function punet(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: ENV, maxBuffer: 1 << 26 });
}

export function punetChild(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
}

export function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function until(check: () => boolean, ms: number, what: string, pollMs = 200): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
