/**
 * Exit codes through the built executables (dist/runtime/cli/bin/*.js, what npm's bin symlinks
 * point at): 0 success, 1 failure, 2 usage, 130 interrupted, for every command; --version on
 * both executables.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, STACK_LINE, TINY_SPEC, ensureDist, tempDir } from './helpers.js';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const BIN = join(ROOT, 'dist/runtime/cli/bin');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;

/** Runs an executable; `interruptOn` sends SIGINT once the output matches it. */
function run(bin: 'punet' | 'compile-and-train', args: string[], interruptOn?: RegExp): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BIN, `${bin}.js`), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const watch = () => {
      if (interruptOn && !sent && interruptOn.test(stdout + stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d) => ((stdout += d), watch()));
    child.stderr.on('data', (d) => ((stderr += d), watch()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let runDir: string;

beforeAll(async () => {
  ensureDist();
  runDir = join(tempDir(), 'run');
  const trained = await run('compile-and-train', [TINY_SPEC, '--steps', '2', '--out', runDir]);
  expect(trained.code, trained.stderr).toBe(0);
}, 120_000);

describe('usage, version and help', () => {
  it('bare punet: usage on stderr, nothing on stdout, exit 2', async () => {
    const r = await run('punet', []);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage: punet <command>/);
  });

  it('punet --help: usage on stdout, exit 0', async () => {
    const r = await run('punet', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: punet <command>/);
  });

  it('--version on both executables prints the package version', async () => {
    for (const [bin, flag] of [['punet', '--version'], ['punet', '-v'], ['compile-and-train', '--version']] as const) {
      const r = await run(bin, [flag]);
      expect(r.code, `${bin} ${flag}`).toBe(0);
      expect(r.stdout.trim(), `${bin} ${flag}`).toBe(VERSION);
    }
  });

  it('an unknown command: exit 2 naming it', async () => {
    const r = await run('punet', ['trian']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'trian'/);
  });
});

describe('every command', () => {
  it('an unknown flag is a usage error (2) naming the command; --help exits 0', async () => {
    const help = await run('punet', ['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toContain('compile-and-train');
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const results = await Promise.all(commands.map(async (c) => [c, await run('punet', [c, '--no-such-flag']), await run('punet', [c, '--help'])] as const));
    for (const [command, bad, ok] of results) {
      expect(bad.code, `${command} --no-such-flag: ${bad.stderr}`).toBe(2);
      expect(bad.stderr, command).toContain(`${command}: Unknown option '--no-such-flag'`);
      expect(bad.stderr, command).not.toMatch(STACK_LINE);
      expect(ok.code, `${command} --help`).toBe(0);
      expect(ok.stdout, `${command} --help`).toMatch(/usage: /);
    }
  });

  it('--backend tpu is a usage error (2) for every command that takes --backend', async () => {
    const cases: Array<['punet' | 'compile-and-train', string[]]> = [
      ['compile-and-train', [TINY_SPEC, '--backend', 'tpu', '--out', join(tempDir(), 'r')]],
      ['punet', ['sample', runDir, '--backend', 'tpu']],
      ['punet', ['eval', runDir, '--backend', 'tpu']],
      ['punet', ['latent-grid', runDir, '--backend', 'tpu']],
      ['punet', ['report', runDir, '--backend', 'tpu']],
    ];
    for (const [bin, args] of cases) {
      const r = await run(bin, args);
      expect(r.code, `${bin} ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--backend tpu: unknown backend; choose one of auto, tensorflow, webgpu, wasm, cpu/);
    }
  });

  it('a failure (missing input) exits 1 with a one-line reason', async () => {
    for (const args of [['check', 'missing.punet'], ['sample', 'no/such/run'], ['eval', 'no/such/run'], ['inspect', 'missing.punet']]) {
      const r = await run('punet', args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/not found|cannot read/);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('Ctrl-C during a command without its own handler exits 130', async () => {
    // eval prints its backend line, then compiles, loads data and samples: interrupt it there.
    const r = await run('punet', ['eval', runDir, '--samples', '64', '--backend', 'cpu'], /backend/);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
  });
});
