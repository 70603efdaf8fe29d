/**
 * Option validation is compiled once per contribution: the compiler's validateOptions runs the
 * very function the spec front end compiled for that kind (in memory or from the disk cache),
 * with the same verdicts and defaults.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { definePlugin } from '../../compiler/api.js';
import { checkContextFor, validateOptions } from '../../compiler/options.js';
import type { ResolvedSpec } from '../../compiler/api.js';
import { createRegistry } from '../../plugins/index.js';
import { compiledSchema, optionValidator } from '../../spec/schema.js';
import { ROOT } from './helpers.js';

/** What a contribution's check sees of the spec. */
const SPEC = { input: { size: [8, 8], channels: 1, classes: 2 } } as unknown as ResolvedSpec;
const Ajv = (createRequire(import.meta.url)('ajv') as { default: { prototype: { compile: unknown } } }).default;

/** A registry with a plugin whose contribution object is new: nothing compiled it before. */
function registryWithFreshPlugin() {
  const registry = createRegistry();
  const plugin = definePlugin({
    name: 'fresh',
    version: '1.0.0',
    punetApi: '^2.0.0',
    regularizers: { decay: { description: 'test', options: { type: 'object', properties: { k: { type: 'number', default: 3 } } }, compute: () => { throw new Error('not run'); } } },
  });
  registry.register(plugin);
  return { registry, fresh: registry.get('regularizers', 'fresh/decay')! };
}

// Under node_modules, as the real cache is: the cached code requires ajv's runtime helpers.
mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
const cacheDir = mkdtempSync(join(ROOT, 'node_modules/.cache/punet-schema-test-'));
afterAll(() => {
  delete process.env.PUNET_SCHEMA_CACHE;
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('one compiled options validator per contribution', () => {
  for (const mode of ['in memory', 'from the disk cache'] as const) {
    it(`the front end's validator is the compiler's (${mode})`, () => {
      process.env.PUNET_SCHEMA_CACHE = mode === 'in memory' ? '0' : cacheDir;
      if (mode === 'from the disk cache') {
        compiledSchema(registryWithFreshPlugin().registry); // writes the cache file for this schema
        expect(readdirSync(cacheDir).filter((f) => f.endsWith('.cjs'))).toHaveLength(1);
      }
      const { registry, fresh } = registryWithFreshPlugin();
      const compile = vi.spyOn(Ajv.prototype as { compile: () => unknown }, 'compile');
      const { validate } = compiledSchema(registry);
      const compiledByFrontEnd = compile.mock.calls.length;
      expect(compiledByFrontEnd).toBe(mode === 'in memory' ? 1 : 0); // the whole spec schema, kinds included, or nothing
      // The compiler's validation of every built-in and of the new plugin's options compiles nothing more.
      expect(validateOptions(fresh, {}, 'loss.regularization', checkContextFor(SPEC, 'loss.regularization'))).toEqual({ k: 3 });
      for (const point of ['optimizers', 'losses', 'metrics', 'dataSources', 'blocks'] as const) {
        for (const r of registry.list(point)) expect(optionValidator(r.id, r.contribution)).toBeTypeOf('function');
      }
      expect(compile.mock.calls.length).toBe(compiledByFrontEnd);
      compile.mockRestore();
      const adam = registry.get('optimizers', 'adam')!;
      // The spec validator applies the kind's defaults through that function: both agree.
      const spec = { model: 'm', input: { size: [8, 8] }, architecture: { kind: 'prob-unet' }, loss: { reconstruction: { kind: 'cross-entropy' } }, train: { optimizer: { kind: 'adam', lr: 2e-4 }, steps: 1 } };
      validate(spec);
      const options = validateOptions(adam, { lr: 2e-4 }, 'train.optimizer', checkContextFor(SPEC, 'train.optimizer'));
      expect(options).toEqual({ lr: 2e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
      expect((spec.train.optimizer as Record<string, unknown>).beta2).toBe(0.999);
      expect(() => validateOptions(adam, { lr: 1e-4, betta1: 0.8 }, 'train.optimizer', checkContextFor(SPEC, 'train.optimizer'))).toThrow(/train\.optimizer\.betta1: unknown option 'betta1'/);
    });
  }

  it('a contribution the front end never saw is compiled on first use, once', () => {
    const contribution = { options: { type: 'object', properties: { k: { type: 'integer', default: 2 } } } };
    const fn = optionValidator('x', contribution);
    expect(optionValidator('x', contribution)).toBe(fn);
    const o = {};
    expect(fn(o)).toBe(true);
    expect(o).toEqual({ k: 2 });
    // Closed like the spec's: an unknown option is refused by the compiler too.
    expect(fn({ j: 1 })).toBe(false);
  });
});
