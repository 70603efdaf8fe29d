/** `--set PATH=VALUE` overrides, `train.early_stop` and the `sweep` section in the front end. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../plugins/index.js';
import { formatDiagnostics, loadSpec, type SpecResult } from '../../spec/index.js';
import { EXAMPLES, ROOT } from './helpers.js';

const tiny = path.join(EXAMPLES, 'prob-unet-tiny.punet');
const load = (overrides: string[], text?: string): Promise<SpecResult> => loadSpec(tiny, { registry: createRegistry(), overrides, ...(text ? { text } : {}) });
const errors = (r: SpecResult) => r.diagnostics.filter((d) => d.severity === 'error');
const shown = (r: SpecResult) => formatDiagnostics(errors(r), { sources: r.sources });

describe('--set overrides', () => {
  it('set values as a variant file would, later overrides winning', async () => {
    const r = await load(['train.optimizer.lr=1e-3', 'latent.size=2', 'train.steps=5k steps', 'unet.widths=[4, 8, 16]', 'latent.size=3', 'eval.metrics=[ged]']);
    expect(errors(r)).toEqual([]);
    expect(r.spec!.train.optimizer.lr).toBe(1e-3);
    expect(r.spec!.train.steps).toBe(5000);
    expect(r.spec!.latent!.size).toBe(3);
    expect(r.spec!.unet!.widths).toEqual([4, 8, 16]);
    expect(r.spec!.eval.metrics).toEqual(['ged']);
    // untouched values stay as the file has them
    expect(r.spec!.train.batch_size).toBe(8);
  });

  it('a name for a block switches its kind (its defaults apply, the old options go)', async () => {
    const r = await load(['train.schedule=constant']);
    expect(errors(r)).toEqual([]);
    expect(r.spec!.train.schedule).toEqual({ kind: 'constant', warmup_steps: 0 });
  });

  it('errors name the override and point into it', async () => {
    const r = await load(['train.optimizer.lrr=1', 'train.steps=12 px', 'train.batch_size=abc']);
    const text = shown(r);
    expect(text).toContain("--set train.optimizer.lrr=1:1:17: error E303: unknown option 'lrr'");
    expect(text).toContain("--set train.steps=12 px:1:16: error E310: unit 'px'");
    expect(text).toMatch(/--set train\.batch_size=abc:1:18: error E305/);
    // the caret sits under the offending part of the override
    expect(text).toContain('  1 | train.optimizer.lrr=1\n    |                 ^^^');
  });

  it('malformed overrides get a one-line reason', async () => {
    const r = await load(['foo', 'model=x', 'train..steps=1', 'train.steps=', 'train.steps=[1']);
    const text = shown(r);
    expect(text).toContain('--set foo:1:1: error E201: expected PATH=VALUE');
    expect(text).toContain("--set model=x:1:1: error E201: 'model' cannot be overridden");
    expect(text).toContain("--set train..steps=1:1:7: error E201: 'train..steps' is not a path");
    expect(text).toContain("--set train.steps=:1:13: error E201: no value after '='");
    expect(text).toContain('--set train.steps=[1:1:15: error E201:');
    expect(r.spec).toBeUndefined();
  });

  it('run through `punet print --set` and `punet check --set` (the built CLI)', () => {
    const bin = path.join(ROOT, 'dist/runtime/cli/bin/punet.js');
    const print = spawnSync(process.execPath, [bin, 'print', tiny, '--set', 'latent.size=2'], { encoding: 'utf8' });
    expect(print.status).toBe(0);
    expect(JSON.parse(print.stdout).latent.size).toBe(2);
    const check = spawnSync(process.execPath, [bin, 'check', tiny, '--set', 'latent.size=-1'], { encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stderr).toContain('--set latent.size=-1:1:13: error');
  });
});

const withTrain = (extra: string) => `extends "./prob-unet-tiny.punet"\nmodel "t" {\n  train {\n${extra}\n  }\n}\n`;
const loadText = (text: string) => loadSpec(path.join(EXAMPLES, 'test-inline.punet'), { registry: createRegistry(), text });

describe('train.early_stop', () => {
  it('counts validations, defaults to GED and min_delta 0', async () => {
    const r = await loadText(withTrain('early_stop { metric: ged  patience: 5 validations }'));
    expect(errors(r)).toEqual([]);
    expect(r.spec!.train.early_stop).toEqual({ metric: 'ged', patience: 5, min_delta: 0 });
  });

  it('rejects a step unit, a zero patience and an unknown metric', async () => {
    const text = shown(await loadText(withTrain('early_stop { metric: loss  patience: 0 steps }')));
    expect(text).toContain("unit 'steps' (training steps) does not fit 'train.early_stop.patience', which counts validations");
    expect(text).toMatch(/E30[56].*patience/);
    expect(text).toMatch(/E30[57].*metric|metric.*E30[57]/s);
  });

  it('needs validation to act on', async () => {
    const text = shown(await loadText(withTrain('validate_every: 0\n    early_stop { patience: 2 validations }')));
    expect(text).toContain("error E414: 'train.early_stop' needs validation");
  });
});

describe('sweep section', () => {
  it('is part of the language, checked by the schema', async () => {
    const ok = await loadText(`extends "./prob-unet-tiny.punet"\nmodel "t" {\n  sweep { seeds: 3  grid: ["latent.size=2,6"]  variants: ["./variant-geco.punet"] }\n}\n`);
    expect(errors(ok)).toEqual([]);
    expect(ok.spec!.sweep).toEqual({ seeds: 3, grid: ['latent.size=2,6'], variants: ['./variant-geco.punet'] });
    const bad = errors(await loadText(`extends "./prob-unet-tiny.punet"\nmodel "t" {\n  sweep { seeds: 0  grid: ["no equals sign"]  engine: slurm }\n}\n`));
    // One error per wrong value, each naming its own field (the source line names all three).
    expect(bad.map((d) => d.code)).toEqual(['E306', 'E308', 'E309']);
    expect(bad[0]!.message).toMatch(/'sweep\.seeds' must be >= 1/);
    expect(bad[1]!.message).toMatch(/'sweep\.grid\[0\]' must match pattern/);
    expect(bad[2]!.message).toMatch(/unknown field 'engine' in 'sweep'/);
  });
});
