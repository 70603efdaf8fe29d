/** `punet check | print | schema`: exit codes, --json, no stack traces. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../../runtime/cli/main.js';
import * as check from '../../runtime/cli/commands/check.js';
import * as print from '../../runtime/cli/commands/print.js';
import * as schema from '../../runtime/cli/commands/schema.js';
import { CASES, EXAMPLES, ROOT } from './helpers.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const lidc = path.join(EXAMPLES, 'prob-unet-lidc.punet');
const bad = path.join(CASES, 'schema-many-errors', 'input.punet');

describe('punet check', () => {
  it('exits 0 for valid specs', async () => {
    expect(await runCommand(check, [lidc, path.join(EXAMPLES, 'prob-unet-tiny.punet')])).toBe(0);
    expect(out).toContain('prob-unet-lidc.punet: ok');
  });
  it('exits 1 with every error printed, caret and all', async () => {
    expect(await runCommand(check, [bad])).toBe(1);
    expect(err).toContain("error E303: unknown option 'widht' for block kind 'unet': did you mean 'widths'?");
    expect(err).toMatch(/\n\s+\| +\^+/);
    expect(err).toContain('5 errors');
    expect(err).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
  });
  it('exits 2 on usage errors', async () => {
    expect(await runCommand(check, [])).toBe(2);
    expect(await runCommand(check, ['--nope', lidc])).toBe(2);
  });
  it('--json prints machine-readable diagnostics', async () => {
    expect(await runCommand(check, ['--json', lidc, bad])).toBe(1);
    const report = JSON.parse(out);
    expect(report.files.map((f: { ok: boolean }) => f.ok)).toEqual([true, false]);
    expect(report.errors).toBe(5);
    expect(report.files[1].diagnostics[0]).toMatchObject({ line: 3, column: 10, code: 'E303', severity: 'error' });
  });
  it('reports a missing file as a diagnostic, not a crash', async () => {
    expect(await runCommand(check, ['/nonexistent/x.punet'])).toBe(1);
    expect(err).toContain("E501: cannot read spec 'x.punet': no such file");
  });
});

describe('punet print / schema', () => {
  it('prints the resolved spec as JSON', async () => {
    expect(await runCommand(print, [lidc])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ model: 'prob-unet-lidc', use: [], train: { steps: 240000 } });
  });
  it('prints nothing on stdout for an invalid spec', async () => {
    expect(await runCommand(print, [bad])).toBe(1);
    expect(out).toBe('');
  });
  it('prints a JSON Schema built from the registry', async () => {
    expect(await runCommand(schema, [])).toBe(0);
    const s = JSON.parse(out);
    expect(s.properties.unet.properties.kind.enum).toContain('unet');
    expect(s.properties.train.properties.optimizer.properties.kind.enum).toEqual(['adam', 'sgd']);
  });
});

// The built CLI, as users run it (after `npx tsc -p tsconfig.json`; `npm test` builds first).
const main = path.join(ROOT, 'dist/runtime/cli/bin/punet.js');
describe.skipIf(!fs.existsSync(path.join(ROOT, 'dist/runtime/cli/commands/check.js')))('built CLI', () => {
  it('gives exit codes 0 / 1 / 2 and never a stack trace', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [main, 'check', ...args], { encoding: 'utf8' });
    expect(run(lidc).status).toBe(0);
    const failed = run(bad, path.join(CASES, 'lex-huge-number', 'input.punet'), path.join(CASES, 'parse-multiple-errors', 'input.punet'));
    expect(failed.status).toBe(1);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    expect(run().status).toBe(2);
  });
});
