/**
 * One plugin loader for every command, through the built `punet` bin: a spec in another folder
 * that extends examples/variant-dice.punet (whose `use` line is relative to examples/) passes
 * check, print and inspect alike; `--plugin` registers a module on every command that reads a
 * spec or a run, and a run trained with `--plugin` needs it again (a one-line error otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDist, ROOT, STACK_LINE, tempDir } from './helpers.js';

let bin: string;
let dir: string;
/** A copy of the example dice-distance plugin, so the test can change its version. */
let DICE: string;

function punet(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PUNET_WASM_THREADS: '1' }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  bin = ensureDist();
  dir = tempDir('punet-loader-');
  DICE = join(dir, 'dice/index.js');
  mkdirSync(join(dir, 'dice'));
  copyFileSync(join(ROOT, 'examples/plugins/dice-distance/index.js'), DICE);
  // Another folder than examples/: the `use "./plugins/dice-distance/index.js"` line inside
  // variant-dice.punet must resolve from examples/, not from here.
  writeFileSync(join(dir, 'elsewhere.punet'), `extends "${join(ROOT, 'examples/variant-dice.punet')}"\nmodel "elsewhere" { }\n`);
  // A spec naming the dice distance without a `use` line: only `--plugin` can register it.
  writeFileSync(
    join(dir, 'no-use.punet'),
    `extends "${join(ROOT, 'examples/prob-unet-tiny.punet')}"\nmodel "no-use" {\n  eval { distance dice-distance/dice { foreground: any } }\n  train { steps: 2 }\n}\n`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('use lines resolve from the file that wrote them, on every command', () => {
  it('check, print and inspect accept a spec in another folder that extends variant-dice.punet', () => {
    const check = punet(['check', 'elsewhere.punet']);
    expect(check.stderr).not.toMatch(/E503|E301/);
    expect(check.code).toBe(0);
    const print = punet(['print', 'elsewhere.punet']);
    expect(print.code).toBe(0);
    const spec = JSON.parse(print.stdout);
    expect(spec.use).toEqual([join(ROOT, 'examples/plugins/dice-distance/index.js')]);
    expect(spec.eval.distance.kind).toBe('dice-distance/dice');
    const inspect = punet(['inspect', 'elsewhere.punet', '--json']);
    expect(inspect.stderr).not.toMatch(/E503|E301/);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout).model).toBe('elsewhere');
  });
});

describe('a package named by a `use` line in an extended spec in another folder', () => {
  it('resolves from that spec\'s node_modules in check, compile-and-train and eval of the run', () => {
    // lib/ holds the package and the spec that uses it; top/ (no node_modules) extends it.
    const pkg = join(dir, 'lib/node_modules/punet-dice-pkg');
    mkdirSync(join(pkg, 'esm'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'punet-dice-pkg', type: 'module', exports: { '.': { import: './esm/index.js' } } }));
    copyFileSync(join(ROOT, 'examples/plugins/dice-distance/index.js'), join(pkg, 'esm/index.js'));
    writeFileSync(
      join(dir, 'lib/base.punet'),
      `use "punet-dice-pkg"\nextends "${join(ROOT, 'examples/prob-unet-tiny.punet')}"\nmodel "pkg-base" {\n  eval { distance dice-distance/dice { foreground: any } }\n  train { steps: 2 }\n}\n`,
    );
    mkdirSync(join(dir, 'top'));
    writeFileSync(join(dir, 'top/top.punet'), 'extends "../lib/base.punet"\nmodel "pkg-top" { }\n');
    expect(punet(['check', 'top/top.punet']).code).toBe(0);
    const train = punet(['compile-and-train', 'top/top.punet', '--out', 'pkg-run']);
    expect(train.stderr).not.toMatch(STACK_LINE);
    expect(train.code).toBe(0);
    const info = JSON.parse(readFileSync(join(dir, 'pkg-run/run.json'), 'utf8'));
    expect(info.plugins).toContainEqual(expect.objectContaining({ name: 'dice-distance', package: 'punet-dice-pkg', file: join(pkg, 'esm/index.js') }));
    // Reopening the run loads the recorded file, not a lookup from top/ (which has no node_modules).
    const evaluated = punet(['eval', 'pkg-run', '--samples', '1', '--no-baseline']);
    expect(evaluated.stderr).not.toMatch(STACK_LINE);
    expect(evaluated.code).toBe(0);
  });
});

describe('--plugin', () => {
  const COMMANDS = ['compile-and-train', 'check', 'print', 'inspect', 'eval', 'sample', 'latent-grid', 'report', 'export', 'compare', 'sweep', 'plugins', 'schema'];

  it('every command that reads a spec or a run documents the same --plugin flag', () => {
    const lines = COMMANDS.map((c) => {
      const help = punet([c, '--help']);
      expect(help.code, c).toBe(0);
      return help.stdout.split('\n').find((l) => l.trimStart().startsWith('--plugin MODULE'))?.replace(/\s+/g, ' ');
    });
    expect(lines.every((l) => l === lines[0] && l !== undefined), JSON.stringify(lines)).toBe(true);
  });

  it('registers a module the spec does not `use`: check and inspect fail without it and pass with it', () => {
    const without = punet(['check', 'no-use.punet']);
    expect(without.code).toBe(1);
    expect(without.stderr).toContain("unknown distance kind 'dice-distance/dice'");
    expect(punet(['check', 'no-use.punet', '--plugin', DICE]).code).toBe(0);
    expect(punet(['inspect', 'no-use.punet', '--plugin', DICE]).code).toBe(0);
  });

  it('sweep checks every task with the --plugin modules and records their files for its tasks', () => {
    const without = punet(['sweep', 'no-use.punet', '--out', 'sweep-a', '--engine', 'none']);
    expect(without.code).toBe(1);
    const made = punet(['sweep', 'no-use.punet', '--out', 'sweep-b', '--engine', 'none', '--seeds', '2', '--plugin', DICE]);
    expect(made.stderr).not.toMatch(STACK_LINE);
    expect(made.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'sweep-b/manifest.json'), 'utf8')).plugins).toEqual([DICE]);
  });

  it('a run trained with --plugin records every plugin and version, needs it again on eval, and warns when its version changed', () => {
    const train = punet(['compile-and-train', 'no-use.punet', '--out', 'run', '--plugin', DICE]);
    expect(train.stderr).not.toMatch(STACK_LINE);
    expect(train.code).toBe(0);
    const punetVersion = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const info = JSON.parse(readFileSync(join(dir, 'run/run.json'), 'utf8'));
    expect(info.plugins).toContainEqual(expect.objectContaining({ name: 'dice-distance', version: '1.0.0', file: DICE }));
    // Built-ins too, with punet's version (they ship with it).
    expect(info.plugins).toContainEqual({ name: 'punet-prob-unet', version: punetVersion, builtin: true });
    // And every checkpoint's metadata.
    const store = join(dir, 'run/checkpoints');
    const stores = readdirSync(store, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith('step-')).map((e) => join(store, e.name));
    expect(stores.length).toBeGreaterThan(0);
    for (const store of stores) {
      const meta = JSON.parse(readFileSync(join(store, 'checkpoint.json'), 'utf8'));
      expect(meta.provenance.plugins).toEqual(info.plugins.map((p: { name: string; version: string }) => ({ name: p.name, version: p.version })));
    }

    const missing = punet(['eval', 'run', '--samples', '1', '--no-baseline']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).not.toMatch(STACK_LINE);
    expect(missing.stderr).toContain(`was trained with plugin 'dice-distance' (${DICE}), which its spec does not \`use\`; pass it again with --plugin ${DICE}`);

    const again = punet(['eval', 'run', '--samples', '1', '--no-baseline', '--plugin', DICE]);
    expect(again.stderr).not.toMatch(STACK_LINE);
    expect(again.code).toBe(0);
    const written = /written to (\S+eval\.json)/.exec(again.stdout)?.[1];
    expect(written, again.stdout).toBeDefined();
    // GED under the plugin's distance: a finite mean over the test images.
    expect(Number.isFinite(JSON.parse(readFileSync(written!, 'utf8')).results['1'].ged.mean)).toBe(true);
    expect(again.stderr).not.toContain('is version');

    // The plugin moves on to another version: eval and sample say so (and still run).
    writeFileSync(DICE, readFileSync(DICE, 'utf8').replace("version: '1.0.0'", "version: '1.1.0'"));
    const warning = "plugin 'dice-distance' is version 1.1.0 now; the run was trained with 1.0.0";
    const evalNew = punet(['eval', 'run', '--samples', '1', '--no-baseline', '--name', 'v110', '--plugin', DICE]);
    expect(evalNew.code).toBe(0);
    expect(evalNew.stderr).toContain(`warning: ${warning}`);
    const sample = punet(['sample', 'run', '--limit', '1', '-n', '2', '--plugin', DICE]);
    expect(sample.code).toBe(0);
    expect(sample.stderr).toContain(`warning: ${warning}`);
  });
});
