/**
 * Loading third-party plugins: a plugin written into a temp folder is loaded like a spec's
 * `use "./p.js"` line, its options are validated (good and bad), its loss trains a step; broken
 * plugins (missing file, syntax error, wrong API range, missing export, duplicate name, an error
 * thrown inside a contribution) get messages naming the plugin, not a bare stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  callPlugin,
  loadPlugin,
  loadPlugins,
  PluginContributionError,
  PluginLoadError,
  wrapContribution,
} from '../../compiler/plugin-loader.js';
import { createRegistry } from '../../plugins/index.js';
import { compileModel } from '../../compiler/compile.js';
import { compileTraining, trainStep } from '../../compiler/training.js';
import { UserError } from '../../runtime/cli/errors.js';
import { squareBatch, tinyFlatSpec } from './helpers.js';

let dir: string;

/** A third-party loss: cross-entropy scaled by `scale`, written as a plain ESM file. */
const SCALED_CE = `// A third-party plugin, as a researcher would write it.
export default {
  name: 'my-losses',
  version: '0.3.0',
  punetApi: '^2.0.0',
  losses: {
    'scaled-ce': {
      description: 'cross-entropy times a constant',
      options: {
        type: 'object',
        additionalProperties: false,
        properties: { scale: { type: 'number', exclusiveMinimum: 0, default: 1 } },
      },
      compute({ tf, options, logits, labels }) {
        return tf.tidy(() => {
          const k = logits.shape[logits.shape.length - 1];
          const onehot = tf.oneHot(tf.cast(labels, 'int32'), k);
          const perPixel = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1));
          return tf.mul(tf.mean(tf.sum(tf.reshape(perPixel, [perPixel.shape[0], -1]), 1)), options.scale);
        });
      },
    },
  },
};
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The message of what `fn` rejects with (fails the test if it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'punet-plugins-'));
  write('p.js', SCALED_CE);
  write('named.js', "export const plugin = { name: 'named-export', version: '1.0.0', punetApi: '^2.0.0', distances: {} };\n");
  write('bad-syntax.js', "export default {\n  name: 'broken',\n  losses: { oops oops }\n};\n");
  write('future.js', "export default { name: 'from-the-future', version: '9.0.0', punetApi: '^3.0.0' };\n");
  write('no-export.js', 'export const helper = 1;\nexport function other() {}\n');
  write('dup-a.js', "export default { name: 'dup', version: '1.0.0', punetApi: '^2.0.0', metrics: {} };\n");
  write('dup-b.js', "export default { name: 'dup', version: '2.0.0', punetApi: '^2.0.0', metrics: {} };\n");
  write('throws.js', `export default {
  name: 'thrower',
  version: '1.0.0',
  punetApi: '^2.0.0',
  losses: {
    bad: {
      description: 'always fails',
      options: { type: 'object', properties: {} },
      compute() {
        throw new RangeError('logits have the wrong rank');
      },
    },
  },
  klEstimators: {
    later: {
      description: 'fails asynchronously',
      options: { type: 'object', properties: {} },
      compute: async () => { throw new Error('async boom'); },
    },
  },
};
`);
  // An npm package next to the spec: ESM-only (exports.import), the way packages ship today.
  write('node_modules/punet-plugin-extra/package.json', JSON.stringify({ name: 'punet-plugin-extra', type: 'module', exports: { '.': { import: './lib/main.js' } } }));
  write('node_modules/punet-plugin-extra/lib/main.js', "export default { name: 'punet-plugin-extra', version: '1.2.3', punetApi: '2.x', distances: {} };\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loading plugins', () => {
  it('loads ./p.js relative to the spec folder and registers its ids under the plugin name', async () => {
    const registry = createRegistry();
    const [plugin] = await loadPlugins(['./p.js'], registry, { fromDir: dir });
    expect(plugin!.name).toBe('my-losses');
    const entry = registry.get('losses', 'my-losses/scaled-ce')!;
    expect(entry.plugin).toEqual({ name: 'my-losses', version: '0.3.0' });
    // Bare ids stay reserved for built-ins.
    expect(registry.get('losses', 'scaled-ce')).toBeUndefined();
  });

  it('accepts `export const plugin`, absolute paths, and npm packages resolved from the spec folder', async () => {
    const registry = createRegistry();
    const loaded = await loadPlugins([join(dir, 'named.js'), 'punet-plugin-extra', './named.js'], registry, { fromDir: dir });
    // The same module named twice (absolute and relative) is registered once.
    expect(loaded.map((p) => p.name)).toEqual(['named-export', 'punet-plugin-extra']);
    expect(registry.pluginNames()).toContain('punet-plugin-extra');
  });

  it("validates the plugin's options: defaults applied, bad values name the option and the plugin", async () => {
    const registry = createRegistry();
    await loadPlugins(['./p.js'], registry, { fromDir: dir });
    const spec = tinyFlatSpec();
    spec.loss.reconstruction = { kind: 'my-losses/scaled-ce' };
    expect(compileTraining(spec, registry).reconstruction.options).toEqual({ scale: 1 });
    spec.loss.reconstruction = { kind: 'my-losses/scaled-ce', scale: -2 };
    expect(() => compileTraining(spec, registry)).toThrow(/loss\.reconstruction\.scale: option 'scale' must be > 0.*plugin 'my-losses'/);
    spec.loss.reconstruction = { kind: 'my-losses/scaled-ce', scal: 2 };
    expect(() => compileTraining(spec, registry)).toThrow(/unknown option 'scal' \(known: scale\).*plugin 'my-losses'/);
  });

  it("trains a step with the plugin's loss; the value is scale x the built-in cross-entropy", async () => {
    const registry = createRegistry();
    await loadPlugins(['./p.js'], registry, { fromDir: dir });
    const spec = tinyFlatSpec();
    spec.loss.reconstruction = { kind: 'my-losses/scaled-ce', scale: 3 };
    const model = compileModel(spec, registry, { seed: 4 });
    const training = compileTraining(spec, registry);
    const { images, masks } = squareBatch(tf, 2, 16);
    const [plugin, builtin] = tf.tidy(() => {
      const f = model.segmenter.trainForward(images, masks, 1);
      const ce = registry.get('losses', 'cross-entropy')!.contribution;
      return [
        training.reconstruction.contribution.compute({ tf, options: training.reconstruction.options, logits: f.logits, labels: masks }).dataSync()[0]!,
        ce.compute({ tf, options: { reduction: 'sum-per-image' }, logits: f.logits, labels: masks }).dataSync()[0]!,
      ];
    });
    expect(plugin).toBeCloseTo(3 * builtin, 2);
    const handle = training.createOptimizer();
    const before = tf.memory().numTensors;
    const step = await trainStep(model, training, handle, { images, masks, seed: 1, step: 0, state: training.initialObjectiveState() });
    const step2 = await trainStep(model, training, handle, { images, masks, seed: 1, step: 1, state: training.initialObjectiveState() });
    expect(Number.isFinite(step.loss)).toBe(true);
    expect(step2.reconstruction).not.toBe(step.reconstruction);
    // The optimiser creates its slots on the first step only.
    // Flat Adam keeps one m and one v vector for all variables together.
    expect(tf.memory().numTensors - before).toBe(2);
    handle.optimizer.dispose();
    model.dispose();
    tf.dispose([images, masks]);
  });
});

describe('broken plugins', () => {
  it('missing file: says where it looked, with the spec position', async () => {
    const err = await rejection(() => loadPlugin('./nope.js', { fromDir: dir, at: { file: 'spec.punet', line: 2, column: 1 } }));
    expect(err).toBeInstanceOf(PluginLoadError);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`spec.punet:2:1: plugin './nope.js': cannot find plugin './nope.js' (looked in ${join(dir, 'nope.js')})`);
  });

  it('missing package: names the package and what to do', async () => {
    const err = await rejection(() => loadPlugin('punet-plugin-absent', { fromDir: dir }));
    expect(err.message).toMatch(/cannot find plugin package 'punet-plugin-absent' \(looked in .*node_modules\/punet-plugin-absent/);
  });

  it('syntax error: file:line of the error', async () => {
    const err = await rejection(() => loadPlugin('./bad-syntax.js', { fromDir: dir }));
    expect(err).toBeInstanceOf(PluginLoadError);
    expect(err.message).toContain(`syntax error in ${join(dir, 'bad-syntax.js')}:3`);
  });

  it('wrong API range: names the plugin, its range and the API version', async () => {
    const err = await rejection(() => loadPlugins(['./future.js'], createRegistry(), { fromDir: dir }));
    expect(err).toBeInstanceOf(PluginLoadError);
    expect(err.message).toMatch(/plugin 'from-the-future': supports plugin API '\^3\.0\.0', but this punet implements 2\.0\.0/);
  });

  it('missing export: lists what the module does export', async () => {
    const err = await rejection(() => loadPlugin('./no-export.js', { fromDir: dir }));
    expect(err.message).toMatch(/has no plugin export: write `export default plugin` or `export const plugin = \{\.\.\.\}` \(it exports: helper, other\)/);
  });

  it('duplicate plugin name (so duplicate ids): names both plugin files', async () => {
    const err = await rejection(() => loadPlugins(['./dup-a.js', './dup-b.js'], createRegistry(), { fromDir: dir }));
    expect(err.message).toContain(`plugin 'dup' (${join(dir, 'dup-b.js')}) has the same name as the already registered plugin 'dup' (${join(dir, 'dup-a.js')})`);
  });

  it('duplicate ids inside the registry: the registry names both plugins', async () => {
    const registry = createRegistry();
    const err = await rejection(async () => registry.register({ name: 'x', version: '1', punetApi: '^2.0.0', losses: { 'cross-entropy': registry.get('losses', 'cross-entropy')!.contribution } }, { builtin: true }));
    expect(err.message).toMatch(/plugin 'x': losses id 'cross-entropy' is already registered by plugin 'punet-losses'/);
  });

  it('an error thrown inside a contribution names the plugin, extension point, id and spec position', async () => {
    const registry = createRegistry();
    await loadPlugins(['./throws.js'], registry, { fromDir: dir });
    const bad = wrapContribution(registry.get('losses', 'thrower/bad')!, 'spec.punet:14:5');
    let err: Error | undefined;
    try {
      bad.compute({ tf, options: {}, logits: undefined as never, labels: undefined as never });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(PluginContributionError);
    expect(err!.message).toMatch(/^spec\.punet:14:5: plugin 'thrower' failed in losses 'thrower\/bad': RangeError: logits have the wrong rank/);
    // The plugin's own file:line, so its author can find the throw.
    expect(err!.message).toContain(`(at ${join(dir, 'throws.js')}:10:`);
    expect((err as PluginContributionError).original).toBeInstanceOf(RangeError);

    const later = wrapContribution(registry.get('klEstimators', 'thrower/later')!, { file: 'spec.punet', line: 15, column: 3 });
    const asyncErr = await rejection(() => later.compute({ tf, options: {}, latents: [], seed: 0 }) as unknown as Promise<unknown>);
    expect(asyncErr.message).toMatch(/^spec\.punet:15:3: plugin 'thrower' failed in klEstimators 'thrower\/later': async boom/);
  });

  it('errors at train time inside what a block or architecture built still name their contribution', () => {
    const block = {
      id: 'acme/odd-unet',
      point: 'blocks' as const,
      plugin: { name: 'acme', version: '1.0.0' },
      builtin: false,
      contribution: {
        description: 'builds a block whose apply fails',
        options: {},
        roles: ['unet' as const],
        build: () => ({ apply: () => { throw new Error('shape mismatch at level 2'); }, width: 4 }),
      },
    };
    const built = wrapContribution(block, 'spec.punet:6:3').build({} as never) as { apply: () => void; width: number };
    expect(built.width).toBe(4);
    expect(() => built.apply()).toThrow(/^spec\.punet:6:3: plugin 'acme' failed in blocks 'acme\/odd-unet': shape mismatch at level 2$/);
    // Already attributed errors pass through unchanged (the innermost plugin is named).
    const inner = new PluginContributionError('inner', 'losses', 'inner/x', undefined, new Error('deep'));
    expect(() => callPlugin({ plugin: { name: 'outer' }, point: 'objectives', id: 'outer/y' }, () => { throw inner; })).toThrow(inner);
  });
});
