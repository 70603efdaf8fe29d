/**
 * Role contracts: blocks are found by role, never by kind name, so any plugin registered under
 * any name works; a block that falls short of its role's contract (or of what another block
 * reads from it) is reported at that role, naming the member.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineBlock, defineContract, definePlugin, type PunetPlugin, type ResolvedSpec } from '../../compiler/api.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { CompileError } from '../../compiler/errors.js';
import { createRegistry } from '../../plugins/index.js';
import hierarchical from '../../plugins/hierarchical/index.js';
import { featureChannels } from '../../plugins/builtin/contracts.js';
import { squareBatch, tinyFlatSpec, tinyHierarchicalSpec } from './helpers.js';
import { runBin } from '../cli/helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The built-in hierarchical plugin as a third party would ship it: another name, so namespaced ids. */
function renamedHierarchical(name: string): PunetPlugin {
  return { ...hierarchical, name };
}

function withKinds(spec: ResolvedSpec, prefix: string): ResolvedSpec {
  const out = structuredClone(spec);
  out.architecture = { ...out.architecture, kind: `${prefix}/${out.architecture.kind}` };
  for (const role of ['unet', 'prior', 'posterior', 'latent', 'combiner'] as const) out[role] = { ...out[role]!, kind: `${prefix}/${out[role]!.kind}` };
  return out;
}

function compileError(spec: ResolvedSpec, plugin?: PunetPlugin): CompileError {
  const registry = createRegistry();
  if (plugin) registry.register(plugin);
  try {
    compileModel(spec, registry, { dry: true }).dispose();
  } catch (err) {
    if (err instanceof CompileError) return err;
    throw err;
  }
  throw new Error('expected a CompileError');
}

describe('a renamed hierarchical plugin', () => {
  it('compiles and trains a step in-process, with weights equal to the built-in ones', async () => {
    const registry = createRegistry();
    registry.register(renamedHierarchical('acme-hier'));
    const spec = withKinds(tinyHierarchicalSpec(), 'acme-hier');
    const model = compileModel(spec, registry);
    const builtin = compileModel(tinyHierarchicalSpec(), createRegistry());
    try {
      expect(model.summary.map((b) => b.kind)).toEqual(['acme-hier/hierarchical-gaussian', 'acme-hier/resnet-unet', 'acme-hier/hierarchical-prior', 'acme-hier/hierarchical-posterior', 'acme-hier/logits-head']);
      // Same names, same seed: the same weights, whatever the plugin is called.
      expect(model.parameterCount).toBe(builtin.parameterCount);
      const name = model.variables[3]!.name;
      expect(await model.variable(name)!.data()).toEqual(await builtin.variable(name)!.data());
      const training = compileTraining(spec, registry);
      const handle = training.createOptimizer();
      const { images, masks } = squareBatch(tf, 2, 32);
      const result = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state: training.initialObjectiveState() });
      expect(Number.isFinite(result.loss)).toBe(true);
      tf.dispose([images, masks]);
      handle.optimizer.dispose();
    } finally {
      model.dispose();
      builtin.dispose();
    }
  });

  it('passes `punet check` and trains through compile-and-train from a `use` line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'punet-renamed-'));
    const builtinModule = pathToFileURL(join(process.cwd(), 'dist/plugins/hierarchical/index.js')).href;
    writeFileSync(join(dir, 'acme-hier.js'), `import h from ${JSON.stringify(builtinModule)};\nexport default { ...h, name: 'acme-hier' };\n`);
    const tiny = join(process.cwd(), 'examples/prob-unet-tiny.punet');
    writeFileSync(
      join(dir, 'renamed.punet'),
      `use "./acme-hier.js"
extends ${JSON.stringify(tiny)}
model "renamed-hierarchical" {
  architecture acme-hier/hierarchical
  unet acme-hier/resnet-unet { widths: [8, 16, 16]  blocks_per_level: 1  convs_per_block: 1 }
  prior acme-hier/hierarchical-prior
  posterior acme-hier/hierarchical-posterior
  latent acme-hier/hierarchical-gaussian { scales: 2 }
  combiner acme-hier/logits-head
}
`,
    );
    const check = runBin('punet', ['check', join(dir, 'renamed.punet')], { cwd: dir });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout + check.stderr).not.toMatch(/error/);
    const train = runBin('compile-and-train', [join(dir, 'renamed.punet'), '--steps', '2', '--out', join(dir, 'run')], { cwd: dir });
    expect(train.status, train.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(join(dir, 'run/spec.json'), 'utf8')) as ResolvedSpec;
    expect(saved.architecture.kind).toBe('acme-hier/hierarchical');
  });
});

// The flat model on 30x30 (check, then train) is test/cli/check-compile.test.ts's case.
describe('input sizes the blocks accept', () => {
  it('the hierarchical model still refuses a size its pooling cannot halve, at input.size', () => {
    const spec = tinyHierarchicalSpec();
    spec.input = { ...spec.input, size: [36, 36] };
    const err = compileError(spec);
    expect(err.path).toBe('input.size');
    expect(err.message).toMatch(/input size 36x36 is not divisible by 2\^\(levels-1\) = 8/);
  });
});

describe('contract violations name the role and the member', () => {
  const plugin = (blocks: PunetPlugin['blocks']): PunetPlugin => definePlugin({ name: 'acme', version: '1.0.0', punetApi: '^2.0.0', blocks });
  const empty = { type: 'object', properties: {}, additionalProperties: false };

  it('a latent block without headChannels', () => {
    const spec = tinyFlatSpec();
    spec.latent = { kind: 'acme/half-latent' };
    const err = compileError(
      spec,
      plugin({
        // Gives what encoders read, not what the prob-unet architecture drives.
        'half-latent': { description: 'x', roles: ['latent'], options: empty, build: () => ({ headChannels: 4, headBiasStd: 0.001, eventShape: 'two' }) },
      }),
    );
    expect(err.path).toBe('latent');
    expect(err.message).toMatch(/block kind 'acme\/half-latent' \(plugin 'acme'\) cannot fill role 'latent' of architecture 'prob-unet' \(contract 'latent'/);
    expect(err.message).toMatch(/'eventShape' is a string, must be number\[\]; lacks 'distribution' \(function\)/);
  });

  it('an encoder that reads more of the latent block than it has: the needs contract, checked before build', () => {
    const spec = tinyFlatSpec();
    spec.prior = { kind: 'acme/low-rank-encoder' };
    const lowRankHead = defineContract<{ headChannels: number; rank: number }>('low-rank-head', 'head size and covariance rank', { headChannels: 'integer', rank: 'integer' });
    let built = false;
    const encoder = defineBlock({
      description: 'x',
      roles: ['prior'],
      options: empty,
      needs: { latent: lowRankHead },
      build: () => {
        built = true;
        return { seesMask: false, encode: (x: tf.Tensor) => x };
      },
    });
    const err = compileError(spec, plugin({ 'low-rank-encoder': encoder }));
    expect(err.path).toBe('prior');
    expect(err.message).toMatch(/block kind 'acme\/low-rank-encoder' reads the 'latent' block as 'low-rank-head' \(head size and covariance rank\), but 'gaussian' lacks 'rank' \(integer\)/);
    expect(built).toBe(false);
  });

  it('a block that needs a role built after it', () => {
    const spec = tinyFlatSpec();
    spec.unet = { kind: 'acme/greedy-unet' };
    const greedy = defineBlock({
      description: 'x',
      roles: ['unet'],
      options: empty,
      needs: { combiner: featureChannels },
      build: () => ({ channels: 4, features: (x: tf.Tensor) => x }),
    });
    const err = compileError(spec, plugin({ 'greedy-unet': greedy }));
    expect(err.path).toBe('unet');
    expect(err.message).toMatch(/needs the 'combiner' block \(feature-channels\) while it builds, but architecture 'prob-unet' builds 'combiner' after 'unet'/);
  });
});
