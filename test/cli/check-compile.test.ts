/**
 * check == compile: every error the compiler finds (E6xx: a block that cannot fill its role, a
 * prior that sees the mask, hierarchical geometry, a spatial latent under fcomb, a plugin block
 * missing a contract member, a KL estimator that does not fit the latent family, an SSN without
 * its loss, ...) is reported by `punet check`, through the built bin, at the same place and with
 * the same message as the commands that compile (`punet inspect`; `compile-and-train` on two
 * cases). One folder per case under check-compile-cases/: input.punet (plus any plugin it uses)
 * and expected.txt, check's diagnostics as `file:line:col: severity code: message` lines with
 * paths relative to the repository. UPDATE_SNAPSHOTS=1 rewrites them; review the diff.
 * A 30x30 flat model (any size the flat U-Net takes) passes check and trains.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDist, tempDir } from './helpers.js';

const CASES = join(ROOT, 'test/cli/check-compile-cases');
const BIN = join(ROOT, 'dist/runtime/cli/bin');
const update = process.env.UPDATE_SNAPSHOTS === '1';
const cases = readdirSync(CASES).filter((d) => existsSync(join(CASES, d, 'input.punet'))).sort();
/** Cases whose error is in the training side (loss, optimiser): `inspect` compiles only the model. */
const TRAINING_SIDE = ['kl-family-mismatch'];
const specOf = (name: string) => relative(ROOT, join(CASES, name, 'input.punet'));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: 'punet' | 'compile-and-train', args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BIN, `${bin}.js`), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PUNET_WASM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface JsonDiagnostic {
  file: string | null;
  line: number | null;
  column: number | null;
  code: string;
  severity: string;
  message: string;
}

/** The header line `punet check` prints for a diagnostic (paths relative to the repository). */
const header = (d: JsonDiagnostic) => `${d.file ?? 'punet'}${d.line ? `:${d.line}:${d.column}` : ''}: ${d.severity} ${d.code}: ${d.message}`;

let checked: Map<string, { ok: boolean; diagnostics: JsonDiagnostic[] }>;
let checkExit: number | null;

beforeAll(async () => {
  ensureDist();
  // One check process for every case: check is cheap, the process start is not.
  const result = await run('punet', ['check', '--json', ...cases.map(specOf)]);
  checkExit = result.code;
  const report = JSON.parse(result.stdout) as { files: Array<{ file: string; ok: boolean; diagnostics: JsonDiagnostic[] }> };
  checked = new Map(report.files.map((f) => [f.file, f]));
}, 120_000);

describe('punet check reports what the compiler reports', () => {
  it('has the compile-time cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(8);
    expect(checkExit).toBe(1);
  });

  for (const name of cases) {
    it(name, async () => {
      const result = checked.get(specOf(name))!;
      expect(result, `${name} missing from check's report`).toBeDefined();
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      const actual = result.diagnostics.map(header).join('\n') + '\n';
      const expectedFile = join(CASES, name, 'expected.txt');
      if (update) writeFileSync(expectedFile, actual);
      expect(readFileSync(expectedFile, 'utf8')).toBe(actual);
      expect(result.ok).toBe(false);
      expect(errors.length).toBeGreaterThan(0);

      // A command that compiles the model (inspect builds it with its weights) fails with check's
      // first error; errors of the training side are compile-and-train's (below).
      if (TRAINING_SIDE.includes(name)) return;
      const inspect = await run('punet', ['inspect', specOf(name)]);
      expect(inspect.code).toBe(1);
      const firstError = inspect.stderr.split('\n').find((l) => / error E\d+: /.test(l));
      expect(firstError?.replace(/^punet: /, '')).toBe(header(errors[0]!));
    }, 60_000);
  }
});

describe('compile-and-train agrees with check', () => {
  for (const name of ['hierarchical-size-not-divisible', 'plugin-latent-without-distribution', ...TRAINING_SIDE]) {
    it(`${name}: refused with check's message, before training`, async () => {
      const error = checked.get(specOf(name))!.diagnostics.find((d) => d.severity === 'error')!;
      const out = tempDir('punet-check-compile-');
      const trained = await run('compile-and-train', [specOf(name), '--steps', '1', '--out', join(out, 'run'), '--backend', 'cpu']);
      expect(trained.code).toBe(1);
      expect(trained.stderr).toContain(error.message);
      expect(existsSync(join(out, 'run', 'checkpoints'))).toBe(false);
    }, 60_000);
  }

  it('a 30x30 flat model passes check and trains (the flat U-Net takes any size)', async () => {
    const spec = 'test/cli/fixtures/flat-30x30.punet';
    const check = await run('punet', ['check', spec]);
    expect(check.code).toBe(0);
    const out = tempDir('punet-check-compile-');
    const trained = await run('compile-and-train', [spec, '--steps', '1', '--out', join(out, 'run')]);
    expect(trained.stderr).not.toMatch(/error/i);
    expect(trained.code).toBe(0);
    const evalJson = JSON.parse(readFileSync(join(out, 'run', 'eval.json'), 'utf8')) as { results: Record<string, Record<string, { mean: number }>> };
    expect(Number.isFinite(evalJson.results['2']!.ged!.mean)).toBe(true);
  }, 120_000);
});
