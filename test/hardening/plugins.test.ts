/**
 * Issue 14, cases 2 and 9 and the plugin parts of 10: plugin modules that never settle or look
 * like promises, a plugin named like a built-in, plugin contributions returning garbage, and a
 * plugin that leaks tensors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginContributionError, wrapContribution } from '../../compiler/plugin-loader.js';
import type { Registered } from '../../compiler/registry.js';
import { expectRefusal, pluginFile, punet, tempDir, tinySpec } from './helpers.js';

let dir: string;
const FAST = { PUNET_PLUGIN_TIMEOUT_MS: '400' };

/** The tiny spec with `use "./FILE"` on top. */
const specUsing = (file: string, edit: (t: string) => string = (t) => t) => tinySpec(dir, (t) => `use "./${file}"\n` + edit(t), `${file}.punet`);

beforeAll(() => {
  dir = tempDir('punet-harden-plugins-');
  writeFileSync(join(dir, 'never.js'), 'await new Promise(() => {});\nexport default { name: "never", version: "1.0.0", punetApi: "^2.0.0" };\n');
  writeFileSync(join(dir, 'then-default.js'), 'export default { name: "thenable", version: "1.0.0", punetApi: "^2.0.0", then() {} };\n');
  writeFileSync(join(dir, 'then-module.js'), 'export function then() {}\nexport default { name: "thenmod", version: "1.0.0", punetApi: "^2.0.0" };\n');
  pluginFile(dir, 'namesake.js', 'punet-losses', 'description: "named like a built-in"');
});

describe('case 2: plugin modules that never settle or are thenable', () => {
  it('a top-level await that never settles: check, print, inspect, plugins and compile-and-train fail with exit 1', () => {
    const spec = specUsing('never.js');
    const runs = [
      punet(['check', spec], { env: FAST }),
      punet(['print', spec], { env: FAST }),
      punet(['inspect', spec], { env: FAST }),
      punet(['plugins', '--plugin', join(dir, 'never.js')], { env: FAST }),
      punet(['compile-and-train', spec, '--out', join(dir, 'never-run')], { env: FAST }),
    ];
    for (const r of runs) expectRefusal(r, 1, /never\.js did not finish loading within 0\.4 s/);
  });

  it("a default export with a 'then' method is refused by name", () => {
    expectRefusal(punet(['check', specUsing('then-default.js')], { env: FAST }), 1, /has a 'then' method, so it looks like a promise/);
  });

  it("a module exporting 'then' (its namespace is thenable) times out instead of exiting 0", () => {
    expectRefusal(punet(['check', specUsing('then-module.js')], { env: FAST }), 1, /then-module\.js did not finish loading/);
  });
});

describe('case 9: check and compile-and-train agree', () => {
  it('a plugin named like a built-in fails check exactly as it fails compile-and-train', () => {
    const spec = specUsing('namesake.js');
    const check = punet(['check', spec]);
    expectRefusal(check, 1, /plugin 'punet-losses' .* has the same name as the already registered plugin/);
    expectRefusal(punet(['compile-and-train', spec, '--out', join(dir, 'namesake-run')]), 1, /has the same name as the already registered plugin/);
  });
});

describe('case 10: plugin results are checked and reported as the plugin\'s error', () => {
  const LOSSES = `losses: {
    vector: { description: 'per-pixel, not reduced', options: { type: 'object', properties: {} }, compute: ({ tf, logits }) => tf.mean(logits, [1, 2, 3]) },
    nan: { description: 'always NaN', options: { type: 'object', properties: {} }, compute: ({ tf, logits }) => tf.mul(tf.mean(logits), NaN) },
    leaky: { description: 'keeps a tensor every call', options: { type: 'object', properties: {} }, compute: ({ tf, logits }) => { tf.keep(tf.zeros([2])); return tf.mean(logits); } },
  }`;

  it('a loss returning a non-scalar tensor ends in one line naming the plugin and the loss', () => {
    pluginFile(dir, 'losses.js', 'bad-losses', LOSSES);
    const spec = specUsing('losses.js', (t) => t.replace('reconstruction cross-entropy { reduction: sum-per-image }', 'reconstruction bad-losses/vector'));
    expectRefusal(punet(['compile-and-train', spec, '--steps', '1', '--out', join(dir, 'vector-run')], { timeoutMs: 120_000 }), 1, /plugin 'bad-losses' failed in losses 'bad-losses\/vector': returned a tensor of shape \[4\], expected a scalar/);
  }, 120_000);

  it('a loss that returns NaN stops training with a message naming the plugin loss', () => {
    pluginFile(dir, 'nan.js', 'nan-losses', LOSSES);
    const spec = specUsing('nan.js', (t) => t.replace('reconstruction cross-entropy { reduction: sum-per-image }', 'reconstruction nan-losses/nan'));
    expectRefusal(punet(['compile-and-train', spec, '--steps', '1', '--out', join(dir, 'nan-run')], { timeoutMs: 120_000 }), 1, /plugin loss 'nan-losses\/nan': reconstruction is NaN at step 1/);
  }, 120_000);

  it('a loss that leaks tensors gets a warning while training', () => {
    pluginFile(dir, 'leaky.js', 'leaky-losses', LOSSES);
    const spec = specUsing('leaky.js', (t) => t.replace('reconstruction cross-entropy { reduction: sum-per-image }', 'reconstruction leaky-losses/leaky').replace('steps: 6 steps', 'steps: 2 steps'));
    const r = punet(['compile-and-train', spec, '--out', join(dir, 'leaky-run')], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: training step 2 left 1 tensor\(s\) behind; a plugin/);
  }, 120_000);

  const registered = <P extends 'distances' | 'dataSources'>(point: P, contribution: unknown): Registered<P> =>
    ({ id: `p/${point}`, point, plugin: { name: 'p', version: '1' }, builtin: false, contribution }) as unknown as Registered<P>;

  it('a distance returning NaN, a string or nothing is the plugin\'s error', () => {
    for (const value of [NaN, 'close', undefined, Infinity]) {
      const d = wrapContribution(registered('distances', { description: '', options: {}, distance: () => value }));
      expect(() => d.distance(new Uint8Array(4), new Uint8Array(4), { options: {}, classes: 2, height: 2, width: 2 })).toThrow(PluginContributionError);
      expect(() => d.distance(new Uint8Array(4), new Uint8Array(4), { options: {}, classes: 2, height: 2, width: 2 })).toThrow(/plugin 'p' failed in distances 'p\/distances': returned .*, expected a finite number/);
    }
  });

  it('a data source returning garbage is the plugin\'s error', async () => {
    const bad = [null, { height: 16, width: 16, channels: 1, classes: 2, items: [], splits: { train: [0], val: [], test: [] } }, { height: -1 }];
    for (const value of bad) {
      const source = wrapContribution(registered('dataSources', { description: '', options: {}, load: async () => value }));
      const loading = source.load({ options: {}, input: { size: [16, 16], channels: 1, classes: 2 }, seed: 0, specDir: dir });
      await expect(loading).rejects.toThrow(PluginContributionError);
      await expect(source.load({ options: {}, input: { size: [16, 16], channels: 1, classes: 2 }, seed: 0, specDir: dir })).rejects.toThrow(/returned (null|a dataset whose)/);
    }
  });
});
