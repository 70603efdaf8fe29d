/** Unit tests of the front end stages, and registry-driven behaviour on a fixture registry. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { definePlugin } from '../../compiler/api.js';
import { checkSource, loadSpec, buildSchema } from '../../spec/index.js';
import { numberValue, stringValue, tokenize } from '../../spec/lexer.js';
import { parseTokens } from '../../spec/parser.js';
import { editDistance, didYouMean } from '../../spec/suggest.js';
import { mergeLayers } from '../../spec/merge.js';
import { modelToJson, type Layer } from '../../spec/to-json.js';
import { FIXTURE_SPEC, fixtureRegistry, lastNetCheck } from './fixture-registry.js';

function parse(text: string) {
  const lexed = tokenize(text, 'mem.punet');
  const parsed = parseTokens(lexed.tokens, 'mem.punet');
  return { ...parsed, diagnostics: [...lexed.diagnostics, ...parsed.diagnostics] };
}

function layer(text: string): Layer {
  const p = parse(text);
  expect(p.diagnostics).toEqual([]);
  return modelToJson(p.ast, [])!;
}

describe('lexer', () => {
  it('reads number suffixes as exact decimals', () => {
    expect(numberValue('80k')).toBe(80000);
    expect(numberValue('1.5M')).toBe(1500000);
    expect(numberValue('5%')).toBe(0.05);
    expect(numberValue('2%')).toBe(0.02);
    expect(numberValue('1e-5')).toBe(0.00001);
    expect(numberValue('5e-7')).toBe(5e-7);
    expect(numberValue('-3')).toBe(-3);
    expect(numberValue('.5')).toBe(0.5);
  });
  it('unescapes strings', () => {
    expect(stringValue('"a\\"b\\\\c\\n\\u0041"')).toBe('a"b\\c\nA');
  });
  it('reports positions 1-based with the right span', () => {
    const { diagnostics } = parse('model "x" {\n  a: 1 ?\n}');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.range!.start).toMatchObject({ line: 2, col: 8 });
    expect(diagnostics[0]!.range!.end).toMatchObject({ line: 2, col: 9 });
  });
});

describe('parser', () => {
  it('builds fields, sections, blocks, lists, sizes, units and removals', () => {
    const l = layer(`model "m" {
      input { size: 64x32 px, channels: 3 }   # comment
      unet unet { widths: [8, 16] }
      architecture prob-unet
      train { steps: 2k steps  batch_size: 4  flag: true  name: "a b"  mode: sum-per-image }
      remove combiner
    }`);
    expect(l.value.model).toBe('m');
    expect(l.value.input).toEqual({ size: [64, 32], channels: 3 });
    expect(l.value.unet).toEqual({ kind: 'unet', widths: [8, 16] });
    expect(l.value.architecture).toEqual({ kind: 'prob-unet' });
    expect(l.value.train).toEqual({ steps: 2000, batch_size: 4, flag: true, name: 'a b', mode: 'sum-per-image' });
    expect(l.origins.get('/train/steps')!.unit!.name).toBe('steps');
    expect(l.origins.get('/input/size')!.unit!.name).toBe('px');
    // `steps` followed by ':' is the next field, not a unit of the previous value.
    expect(layer('model "m" { train { batch_size: 16 steps: 3 } }').value.train).toEqual({ batch_size: 16, steps: 3 });
  });
  it('maps every value to its source range', () => {
    const l = layer('model "m" {\n  unet unet {\n    widths: [8, 16]\n  }\n}');
    expect(l.origins.get('/unet/widths/1')!.range.start).toMatchObject({ line: 3, col: 17 });
    expect(l.origins.get('/unet/kind')!.range.start).toMatchObject({ line: 2, col: 8 });
    expect(l.origins.get('/unet/widths')!.keyRange!.start).toMatchObject({ line: 3, col: 5 });
  });
  it('reports several syntax errors in one run', () => {
    const { diagnostics } = parse('model "m" {\n  a 1\n  b: 2\n  c: [1, 2\n  d { e 5 }\n}');
    expect(diagnostics.length).toBeGreaterThanOrEqual(3);
    expect(new Set(diagnostics.map((d) => d.range!.start.line)).size).toBeGreaterThanOrEqual(3);
  });
  it('is reusable: a parse after a failed one is clean', () => {
    expect(parse('model { {').diagnostics.length).toBeGreaterThan(0);
    expect(parse('model "ok" { a: 1 }').diagnostics).toEqual([]);
  });
});

describe('merge', () => {
  const base = layer('model "b" { unet u { widths: [1, 2]  depth: 3 }  train { steps: 5  seed: 1 }  latent g { size: 6 } }');
  const merge = (text: string) => {
    const diags: never[] = [];
    return mergeLayers(base, layer(text), diags).value;
  };
  it('merges sections and same-kind blocks key by key; lists replace whole', () => {
    expect(merge('model "c" { unet { widths: [7] }  train { seed: 2 } }')).toMatchObject({
      model: 'c',
      unet: { kind: 'u', widths: [7], depth: 3 },
      train: { steps: 5, seed: 2 },
    });
  });
  it('replaces a block whose kind changes', () => {
    expect(merge('model "c" { unet v { x: 1 } }').unet).toEqual({ kind: 'v', x: 1 });
  });
  it('removes keys', () => {
    const v = merge('model "c" { remove latent  train { remove seed } }');
    expect(v).not.toHaveProperty('latent');
    expect(v.train).toEqual({ steps: 5 });
  });
  it('keeps origins of the file that set each value', () => {
    const over = layer('model "c" {\n unet { widths: [7] } }');
    const merged = mergeLayers(base, over, []);
    expect(merged.origins.get('/unet/widths')!.range.start.line).toBe(2);
    expect(merged.origins.get('/unet/depth')!.range.start.line).toBe(1);
  });
});

describe('suggestions', () => {
  it('computes edit distances by hand-checked examples', () => {
    expect(editDistance('widht', 'widths')).toBe(2); // transposition + insertion
    expect(editDistance('unnet', 'unet')).toBe(1);
    expect(editDistance('iuo', 'iou')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  it('suggests only plausible typos', () => {
    expect(didYouMean('widht', ['widths', 'down', 'up'])).toBe('widths');
    expect(didYouMean('zzzzzz', ['widths', 'down'])).toBeUndefined();
  });
});

describe('registry-driven validation (fixture registry)', () => {
  it('accepts a spec with the fixture kinds and applies their defaults', () => {
    const r = checkSource(FIXTURE_SPEC, '/tmp/fx.punet', fixtureRegistry());
    expect(r.diagnostics).toEqual([]);
    expect(r.spec!.unet).toEqual({ kind: 'net', levels: 2, widths: [4, 8] });
    expect(r.spec!.train.optimizer).toEqual({ kind: 'opt', lr: 0.5 });
    // Slots whose default kind is not registered get no default.
    expect(r.spec!.loss).toEqual({ reconstruction: { kind: 'ce' } });
  });
  it('uses the options schema unit annotation and runs contribution checks', () => {
    const text = FIXTURE_SPEC.replace('unet net', 'prior enc { warmup: 5 steps }\n  unet net').replace('optimizer opt', 'optimizer opt { lr: 0.25 }');
    const r = checkSource(text, '/tmp/fx.punet', fixtureRegistry());
    expect(r.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['W401', "architecture 'tiny' does not use a 'prior' block; it is ignored (remove it, or write `remove prior` in a variant)"],
      ['E412', "optimizer kind 'opt': a quarter is unlucky"],
    ]);
  });
  it("runs a block's own check with input, spec, path and role, honouring its severity and code; lists kinds per role", () => {
    const text = FIXTURE_SPEC.replace('unet net { widths: [4, 8] }', 'unet net { levels: 5  widths: [4, 8] }\n  latent enc');
    const r = checkSource(text, '/tmp/fx.punet', fixtureRegistry());
    expect(r.diagnostics.map((d) => [d.code, d.severity, d.message])).toEqual([
      ['W777', 'warning', "block kind 'net': input 16x16 is small for 5 levels"],
      ['E412', 'error', "block kind 'net': lists 2 widths for 5 levels"],
      ['E302', 'error', "block kind 'enc' cannot fill role 'latent' (it fills: prior, posterior)"],
    ]);
    expect(r.diagnostics.map((d) => d.range?.start.line)).toEqual([4, 4, 5]);
    expect(lastNetCheck.ctx).toMatchObject({ input: { size: [16, 16] }, path: 'unet', role: 'unet', spec: { model: 'fx', unet: { kind: 'net', levels: 5 } } });
  });
  it('rebuilds the schema when a plugin is registered later', () => {
    const registry = fixtureRegistry();
    const text = FIXTURE_SPEC.replace('reconstruction ce', 'reconstruction extra');
    expect(checkSource(text, '/tmp/fx.punet', registry).diagnostics.map((d) => d.code)).toEqual(['E301']);
    registry.register(definePlugin({ name: 'later', version: '1.0.0', punetApi: '^2.0.0', losses: { extra: { description: 'x', options: { type: 'object' }, compute: () => { throw new Error(); } } } }), { builtin: true });
    expect(checkSource(text, '/tmp/fx.punet', registry).diagnostics).toEqual([]);
    expect(JSON.stringify(buildSchema(registry))).toContain('"extra"');
  });
});

describe('loadSpec and the plugin hook', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'punet-spec-'));
  const file = path.join(dir, 'fx.punet');
  fs.writeFileSync(file, `use "./plugin.js"\nuse "some-package"\n${FIXTURE_SPEC.replace('reconstruction ce', 'reconstruction extra')}`);

  it('lists use targets resolved against the spec folder when no hook is given', async () => {
    const r = await loadSpec(file, { registry: fixtureRegistry() });
    expect(r.uses.map((u) => u.module)).toEqual([path.join(dir, 'plugin.js'), 'some-package']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E301']);
  });
  it('registers plugins through the hook before validating', async () => {
    const seen: string[] = [];
    const r = await loadSpec(file, {
      registry: fixtureRegistry(),
      loadPlugins: async (uses, registry) => {
        seen.push(...uses.map((u) => `${u.specifier}|${u.fromDir === dir}`));
        registry.register(definePlugin({ name: 'hooked', version: '1.0.0', punetApi: '^2.0.0', losses: { extra: { description: 'x', options: { type: 'object' }, compute: () => { throw new Error(); } } } }), { builtin: true });
        return [{ module: 'some-package', message: 'not installed' }];
      },
    });
    expect(seen).toEqual(['./plugin.js|true', 'some-package|true']);
    expect(r.diagnostics.map((d) => [d.code, d.message, d.range?.start.line])).toEqual([['E503', "cannot load plugin 'some-package': not installed", 2]]);
    expect(r.spec).toBeUndefined();
  });
  it('turns a throwing hook into a diagnostic', async () => {
    const r = await loadSpec(file, { registry: fixtureRegistry(), loadPlugins: async () => { throw new Error('boom'); } });
    expect(r.diagnostics.map((d) => d.code)).toContain('E503');
  });
});
