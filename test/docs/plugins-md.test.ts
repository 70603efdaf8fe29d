/**
 * docs/plugins.md is tested as its readers use it: every ts/js block is a module of a temporary
 * project that imports `punet` (the built package, dist/), type-checked by the repository's tsc in
 * strict mode; the Laplace latent (section 7) and the late-fusion architecture (section 8) are
 * compiled to JS and trained for two steps by the installed `compile-and-train` binary from the
 * specs written in the page; the page's own vitest test runs; the Laplace distribution's numbers
 * are checked against plain-JS computations; and every role contract of the built-in plugins has
 * a section whose table lists exactly its members, with their kinds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDist, ROOT } from '../cli/helpers.js';
import { builtinPlugins } from '../../plugins/index.js';
import * as probUNetContracts from '../../plugins/builtin/contracts.js';
import type { Distribution, KLContribution, MemberSpec, RoleContract } from '../../compiler/api.js';

const DOC = join(ROOT, 'docs/plugins.md');

interface CodeBlock {
  lang: string;
  /** From a `<!-- file: NAME -->` line just above; blocks without one get `block-N.<lang>`. */
  file: string;
  code: string;
  line: number;
}

/** The page's fenced blocks with the file each belongs to; `<!-- not-compiled -->` ones are left out. */
function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    const above = lines.slice(0, start).reverse().find((l) => l.trim() !== '')?.trim() ?? '';
    if (above === '<!-- not-compiled -->') continue;
    const named = /^<!-- file: (\S+) -->$/.exec(above);
    const lang = open[2]!;
    out.push({ lang, file: named?.[1] ?? `block-${start + 1}.${lang}`, code: body.join('\n') + '\n', line: start + 1 });
  }
  return out;
}

/** Files of the temporary project: the compiled ts/js blocks and the named other ones (specs). */
function projectFiles(blocks: CodeBlock[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const b of blocks) {
    const compiled = b.lang === 'ts' || b.lang === 'js';
    if (!compiled && b.file.startsWith('block-')) continue;
    files.set(b.file, (files.get(b.file) ?? '') + b.code);
  }
  return files;
}

function link(dir: string, name: string, target: string): void {
  mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
  symlinkSync(target, join(dir, 'node_modules', name), 'dir');
}

function node(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, PUNET_WASM_THREADS: '1' } });
  // Without colour codes (vitest colours its summary when its parent does).
  return { code: result.status, output: `${result.stdout}${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

const markdown = readFileSync(DOC, 'utf8');
const blocks = codeBlocks(markdown);
let project: string;
let out: string;
let tsc: { code: number | null; output: string };

beforeAll(() => {
  ensureDist();
  project = mkdtempSync(join(tmpdir(), 'punet-plugins-md-'));
  out = join(project, 'out');
  // A plugin author's project: `punet` and the libraries the page imports, as installed packages.
  link(project, 'punet', ROOT);
  link(project, '@sinclair/typebox', join(ROOT, 'node_modules/@sinclair/typebox'));
  link(project, '@tensorflow/tfjs', join(ROOT, 'node_modules/@tensorflow/tfjs'));
  link(project, 'vitest', join(ROOT, 'node_modules/vitest'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'plugins-md', private: true, type: 'module' }));
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022'],
    types: [],
    strict: true,
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    noEmitOnError: true,
    outDir: 'out',
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts', '*.js'] }));
  mkdirSync(out);
  for (const [file, code] of projectFiles(blocks)) writeFileSync(join(/\.(ts|js)$/.test(file) ? project : out, file), code);
  tsc = node([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], project);
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('docs/plugins.md code blocks', () => {
  it('are few enough to skip and many enough to matter', () => {
    const compiled = blocks.filter((b) => b.lang === 'ts' || b.lang === 'js');
    expect(compiled.length).toBeGreaterThanOrEqual(8);
    expect((markdown.match(/<!-- not-compiled -->/g) ?? []).length).toBeLessThanOrEqual(2);
    for (const file of ['laplace-latent.ts', 'laplace-tiny.punet', 'late-fusion.ts', 'late-fusion-tiny.punet']) {
      expect(projectFiles(blocks).has(file), file).toBe(true);
    }
  });

  it('type-check as modules importing punet (strict; JS with checkJs)', () => {
    // Names tsc's file names after the page: `laplace-latent.ts` = the blocks at lines 350, 395, ...
    const legend = [...new Set(blocks.map((b) => b.file))].map((f) => `${f}: docs/plugins.md lines ${blocks.filter((b) => b.file === f).map((b) => b.line).join(', ')}`);
    expect(tsc.output, legend.join('\n')).toBe('');
    expect(tsc.code).toBe(0);
  });

  it('the Laplace latent: passes punet check, fails it by its own rule, and trains two steps by compile-and-train', () => {
    const punet = join(ROOT, 'dist/runtime/cli/bin/punet.js');
    const good = node([punet, 'check', 'laplace-tiny.punet'], out);
    expect(good.output).toMatch(/laplace-tiny\.punet: ok/);
    expect(good.code).toBe(0);
    const bad = node([punet, 'check', 'laplace-tiny.punet', '--set', 'latent.log_scale_max=-6'], out);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/E412: block kind 'laplace-latent\/laplace': must be above log_scale_min \(-5\), got -6/);

    const train = node([join(ROOT, 'dist/runtime/cli/bin/compile-and-train.js'), 'laplace-tiny.punet', '--steps', '2', '--out', 'run-laplace'], out);
    expect(train.output).not.toMatch(/error/i);
    expect(train.code).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run-laplace/run.json'), 'utf8'));
    expect(JSON.stringify(run.plugins)).toContain('laplace-latent');
    const steps = readFileSync(join(out, 'run-laplace/metrics.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => typeof e.step === 'number' && !e.event);
    expect(steps.length).toBe(2);
    for (const s of steps) expect(Number.isFinite(s.KL) && s.KL >= 0, JSON.stringify(s)).toBe(true);
    // The latent grid walks the prior's mean() +- stddev(): drawn for this family too.
    expect(train.output).not.toMatch(/no latent grid/);
    expect(readdirSync(join(out, 'run-laplace/samples')).some((f) => f.startsWith('latent-grid'))).toBe(true);
  });

  it('the late-fusion architecture trains two steps from its spec; fcomb is refused by its contract', () => {
    const bin = join(ROOT, 'dist/runtime/cli/bin/compile-and-train.js');
    const train = node([bin, 'late-fusion-tiny.punet', '--steps', '2', '--out', 'run-late-fusion'], out);
    expect(train.code, train.output).toBe(0);
    const refused = node([bin, 'late-fusion-tiny.punet', '--steps', '1', '--out', 'run-fcomb', '--set', 'combiner=fcomb'], out);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/cannot fill role 'combiner' of architecture 'late-fusion\/late-fusion' \(contract 'pixel-decoder'.*lacks 'decode' \(function\)/);
  });

  it("the page's own test of the Laplace latent passes when run with vitest, as its reader would", () => {
    const run = node([join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--root', project, 'laplace-latent.test.ts'], project);
    expect(run.output).toMatch(/Tests\s+1 passed/);
    expect(run.code, run.output).toBe(0);
  });

  it("the Laplace distribution's logProb, stddev and KL agree with plain-JS computations", async () => {
    await tf.setBackend('cpu');
    const mod = (await import(pathToFileURL(join(out, 'laplace-latent.js')).href)) as {
      laplace: (t: typeof tf, loc: tf.Tensor, logScale: tf.Tensor) => Distribution;
      laplaceKL: KLContribution;
    };
    const q = { loc: [0.3, -1], logB: [-0.5, 0.2] };
    const p = { loc: [0, 0.5], logB: [0, -0.3] };
    const dist = (d: typeof q) => mod.laplace(tf, tf.tensor2d([d.loc]), tf.tensor2d([d.logB]));
    const density = (x: number, loc: number, logB: number) => Math.exp(-Math.abs(x - loc) / Math.exp(logB)) / (2 * Math.exp(logB));
    const before = tf.memory().numTensors;
    const zs = [[0, 0], [1, -2], [-0.7, 0.4]];
    const [logProb, std, kl] = tf.tidy(() => [
      dist(q).logProb(tf.tensor3d([zs])).dataSync(),
      dist(q).stddev().dataSync(),
      mod.laplaceKL.compute({ tf, options: {}, latents: [{ posterior: dist(q), prior: dist(p) }], seed: 0 }).dataSync(),
    ]);
    expect(tf.memory().numTensors).toBe(before);
    zs.forEach((z, i) => expect(logProb[i]).toBeCloseTo(Math.log(density(z[0]!, q.loc[0]!, q.logB[0]!) * density(z[1]!, q.loc[1]!, q.logB[1]!)), 4));
    q.logB.forEach((lb, i) => expect(std[i]).toBeCloseTo(Math.SQRT2 * Math.exp(lb), 5));
    // KL by numerical integration of q log(q / p), coordinate by coordinate (midpoint rule).
    let numeric = 0;
    for (let i = 0; i < 2; i++) {
      const h = 1e-3;
      for (let x = -30; x < 30; x += h) {
        const qx = density(x + h / 2, q.loc[i]!, q.logB[i]!);
        if (qx > 0) numeric += qx * Math.log(qx / density(x + h / 2, p.loc[i]!, p.logB[i]!)) * h;
      }
    }
    expect(numeric).toBeGreaterThan(0.5);
    expect(kl[0]).toBeCloseTo(numeric, 3);
  });
});

describe('the role contracts in docs/plugins.md', () => {
  /** Every contract a built-in architecture's slots or a built-in block's needs use, and the exported ones. */
  function builtinContracts(): Map<string, RoleContract<unknown>> {
    const all = new Map<string, RoleContract<unknown>>();
    const add = (c: RoleContract<unknown>) => all.set(c.name, c);
    for (const plugin of builtinPlugins) {
      for (const arch of Object.values(plugin.architectures ?? {})) for (const slot of Object.values(arch.slots)) add((slot as { contract: RoleContract<unknown> }).contract);
      for (const block of Object.values(plugin.blocks ?? {})) for (const c of Object.values(block.needs ?? {})) add(c as RoleContract<unknown>);
    }
    for (const value of Object.values(probUNetContracts)) if (typeof value === 'object' && value && 'members' in value) add(value as RoleContract<unknown>);
    return all;
  }

  /** The member rows (`| \`name\` | \`kind\` | ...`) of the section headed "Contract `name`". */
  function documentedMembers(name: string): Map<string, string> | undefined {
    const lines = markdown.split('\n');
    const start = lines.findIndex((l) => new RegExp(`^#{3,4} Contract \`${name}\``).test(l));
    if (start < 0) return undefined;
    const rows = new Map<string, string>();
    for (const l of lines.slice(start + 1)) {
      if (/^#/.test(l)) break;
      const row = /^\| `(\w+)` \| `([^`]+)` \|/.exec(l);
      if (row) rows.set(row[1]!, row[2]!);
    }
    return rows;
  }

  it('has a section for each, listing exactly its members with their kinds', () => {
    const contracts = builtinContracts();
    expect(contracts.size).toBeGreaterThanOrEqual(14);
    for (const [name, contract] of contracts) {
      const documented = documentedMembers(name);
      expect(documented, `docs/plugins.md has no "Contract \`${name}\`" section`).toBeDefined();
      const expected = new Map(Object.entries(contract.members as Record<string, MemberSpec>));
      expect(Object.fromEntries(documented!), `members of contract '${name}'`).toEqual(Object.fromEntries(expected));
    }
  });
});
