/**
 * punet as a user installs it: the packed tarball installed into a fresh project (npm resolving
 * its dependencies), then the bins through npm's symlinks (`npx punet`, `npx compile-and-train`),
 * the package's types from a TypeScript plugin, and the library through `import('punet')`.
 * One pack + install is shared by every case (it is the expensive part).
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, STACK_LINE, TINY_SPEC } from '../cli/helpers.js';
import { packAndInstall, runIn, type InstalledProject } from './helpers.js';

let project: InstalledProject;
const npx = (...args: string[]) => runIn(project.dir, 'npx', ['--no-install', ...args]);

beforeAll(() => {
  project = packAndInstall();
  copyFileSync(TINY_SPEC, join(project.dir, 'tiny.punet'));
  // The same spec with a misspelt block kind on line 8.
  const bad = readFileSync(TINY_SPEC, 'utf8').replace('latent gaussian', 'latent gausian');
  writeFileSync(join(project.dir, 'bad.punet'), bad);
}, 240_000);

describe('the packed tarball', () => {
  it('holds all of dist/ the package needs, .d.ts included, and no tests or benchmarks', () => {
    const paths = project.files.map((f) => f.path);
    for (const needed of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/runtime/cli/bin/punet.js',
      'dist/runtime/cli/bin/compile-and-train.js',
      'dist/runtime/data/store.js',
      'dist/runtime/data/types.d.ts',
      'examples/prob-unet-tiny.punet',
      'docs/api.md',
      'README.md',
      'LICENSE',
    ]) {
      expect(paths, needed).toContain(needed);
    }
    expect(paths.filter((p) => /^(dist\/)?(test|bench)\//.test(p) || p.endsWith('.test.ts') || p.endsWith('.test.js'))).toEqual([]);
  });

  it('holds every module the package build (tsconfig.json) emits, so no import of an installed punet can miss', () => {
    const packed = new Set(project.files.map((f) => f.path));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const sources = execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json'), '--listFilesOnly'], { encoding: 'utf8' })
      .split('\n')
      .map((f) => relative(ROOT, f.trim()))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('node_modules') && !f.startsWith('..'));
    expect(sources.length).toBeGreaterThan(100);
    const missing = sources.map((f) => `dist/${f.replace(/\.ts$/, '.js')}`).filter((f) => !packed.has(f));
    expect(missing).toEqual([]);
  });

  it('holds every native source binding.gyp builds and every header they include, and the install built the addon', () => {
    const packed = new Set(project.files.map((f) => f.path));
    const gyp = readFileSync(join(ROOT, 'native/binding.gyp'), 'utf8');
    const sources = [...gyp.matchAll(/"([\w-]+\.cc)"/g)].map((m) => m[1]!);
    expect(sources.length).toBeGreaterThan(3);
    const headers = sources.flatMap((f) => [...readFileSync(join(ROOT, 'native', f), 'utf8').matchAll(/#include "([\w-]+\.h)"/g)].map((m) => m[1]!));
    expect(headers.length).toBeGreaterThan(0);
    const missing = [...new Set([...sources, ...headers, 'binding.gyp', 'build.mjs'])].map((f) => `native/${f}`).filter((f) => !packed.has(f));
    expect(missing).toEqual([]);
    // Where this checkout built the addon (CI does), the installed package's install script must have too.
    if (existsSync(join(ROOT, 'native/build/Release/punet_dnnl.node'))) {
      const installed = join(project.dir, 'node_modules/punet/native');
      const log = join(installed, 'build.log');
      const why = existsSync(log) ? readFileSync(log, 'utf8').slice(-600) : 'no native/build.log: the install script did not run';
      expect(existsSync(join(installed, 'build/Release/punet_dnnl.node')), why).toBe(true);
    }
  });
});

describe('the installed bins (npx, through npm\'s symlinks)', () => {
  it('punet --help prints the commands and exits 0; --version prints the package version', () => {
    const help = npx('punet', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: punet <command>/);
    expect(help.stdout).toContain('compile-and-train');
    for (const bin of ['punet', 'compile-and-train']) {
      const v = npx(bin, '--version');
      expect(v.code, bin).toBe(0);
      expect(v.stdout.trim(), bin).toBe(project.version);
    }
  });

  it('punet check: exit 0 on a good spec, 1 with file:line:col on a bad one', () => {
    const good = npx('punet', 'check', 'tiny.punet');
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    const bad = npx('punet', 'check', 'bad.punet');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.punet:8:\d+/);
    expect(bad.stderr).toContain('gausian');
    expect(bad.stderr).not.toMatch(STACK_LINE);
  });

  it('punet plugins lists the built-in contributions', () => {
    const r = npx('punet', 'plugins');
    expect(r.code).toBe(0);
    for (const kind of ['prob-unet', 'fcomb', 'cross-entropy', 'ged']) expect(r.stdout).toContain(kind);
  });

  it('compile-and-train trains 2 steps and writes a run folder with a checkpoint', () => {
    const r = npx('compile-and-train', 'tiny.punet', '--steps', '2', '--out', 'run');
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const run = join(project.dir, 'run');
    expect(existsSync(join(run, 'spec.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'spec.json'), 'utf8')).train.steps).toBe(2);
    expect(existsSync(join(run, 'eval.json'))).toBe(true);
    expect(runIn(run, 'ls', ['checkpoints']).stdout).toMatch(/step-0*2/);
  });
});

describe("the library through import('punet')", () => {
  it('loadRun + readImage + sample on the run trained above, and punet export writes an ONNX file', () => {
    writeFileSync(
      join(project.dir, 'use-api.mjs'),
      `import { loadRun, readImage, writePng } from 'punet';
writePng('disc.png', { width: 24, height: 16, channels: 1, data: Uint8Array.from({ length: 384 }, (_, i) => ((i % 24) - 12) ** 2 + (Math.floor(i / 24) - 8) ** 2 < 25 ? 230 : 20) });
const model = await loadRun('run', { checkpoint: 'last' });
const image = model.readImage('disc.png');
const [samples] = await model.sample([image], 3, { seed: 1 });
const again = await model.sample(image.data, 3, { seed: 1 });
const [mean] = await model.predictMean([image]);
console.log(JSON.stringify({
  step: model.step, inputSize: model.inputSize, classes: model.classes, model: model.spec.model,
  image: [image.width, image.height, image.channels, readImage('disc.png').width],
  masks: samples.masks.length, pixels: samples.masks[0].length, seeded: JSON.stringify(again[0].foreground) === JSON.stringify(samples.foreground),
  mean: mean.masks.length,
}));
model.dispose();
`,
    );
    const r = runIn(project.dir, process.execPath, ['use-api.mjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({
      step: 2, inputSize: [16, 16], classes: 2, model: 'cli-tiny', image: [16, 16, 1, 16], masks: 3, pixels: 256, seeded: true, mean: 1,
    });
    const exported = npx('punet', 'export', 'run', '--out', 'model.onnx', '--checkpoint', 'last');
    expect(exported.code, exported.stderr).toBe(0);
    // An ONNX ModelProto starts with field 1 (ir_version, varint 7).
    expect([...readFileSync(join(project.dir, 'model.onnx')).subarray(0, 2)]).toEqual([0x08, 7]);
  });
});

describe("the package's types", () => {
  it('type-check a TypeScript plugin that imports its types from punet (and they are not any)', () => {
    const src = join(project.dir, 'plugin.ts');
    writeFileSync(
      src,
      `import { definePlugin, type LossContribution, type Dataset, type ResolvedSpec } from 'punet';

type IsAny<T> = 0 extends 1 & T ? true : false;
const datasetIsTyped: IsAny<Dataset> = false;
const specIsTyped: IsAny<ResolvedSpec> = false;

const half: LossContribution<{ weight: number }> = {
  description: 'half the mean logit (a type-check fixture)',
  options: { type: 'object', properties: { weight: { type: 'number', default: 0.5 } } },
  compute: ({ tf, options, logits }) => tf.mul(tf.mean(logits), options.weight),
};

export default definePlugin({
  name: 'typed-plugin',
  version: '1.0.0',
  punetApi: '^2.0.0',
  losses: { half },
});

// @ts-expect-error a loss needs compute (this line fails to compile only if the types are real)
const broken: LossContribution = { description: 'no compute', options: {} };
export { datasetIsTyped, specIsTyped, broken };
`,
    );
    writeFileSync(
      join(project.dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] }, files: ['plugin.ts'] }),
    );
    const r = runIn(project.dir, process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
