/**
 * Stage 4a: the JSON Schema of a resolved spec, BUILT from what is registered.
 *
 * Every kind-discriminated block is `{ kind: enum(known ids), allOf: [if kind = id then options] }`,
 * so an unknown kind yields one `enum` error (no cascade over every alternative), and each
 * kind's options schema is closed (`additionalProperties: false` unless the plugin says
 * otherwise) so a misspelt option is reported. Compiled once per registry content.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { OptionsSchema } from '../compiler/api.js';
import type { Registry } from '../compiler/registry.js';
import { KIND_SLOTS, METRIC_SLOT, type KindSlot } from './slots.js';

type Schema = Record<string, unknown>;

/** Kinds that may fill a slot: for block roles, only kinds that list the role. */
export function kindsFor(registry: Registry, slot: KindSlot): string[] {
  if (slot.point === 'blocks' && slot.role) {
    return registry
      .list('blocks')
      .filter((r) => r.contribution.roles.includes(slot.role!))
      .map((r) => r.id)
      .sort();
  }
  return registry.ids(slot.point);
}

/** The options schema of one kind, with `kind` allowed and unknown options rejected. */
export function closedOptions(id: string, options: OptionsSchema | undefined): Schema {
  const base: Schema = { ...(options ?? {}) };
  const props = (base.properties as Record<string, unknown> | undefined) ?? {};
  return {
    ...base,
    type: 'object',
    properties: { kind: { const: id }, ...props },
    additionalProperties: base.additionalProperties ?? false,
  };
}

/** `#/definitions/<key>` for a kind's options: each kind is compiled once, whatever slots share it. */
export function definitionKey(point: string, id: string): string {
  return `${point}:${id}`;
}

function refTo(key: string): string {
  return `#/definitions/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function kindSchema(registry: Registry, slot: KindSlot): Schema {
  const ids = kindsFor(registry, slot);
  const schema: Schema = {
    type: 'object',
    description: `A ${slot.what}: \`${slot.path.at(-1)} <kind> { options }\`.`,
    required: ['kind'],
    properties: { kind: ids.length ? { type: 'string', enum: ids } : { type: 'string', not: {} } },
  };
  // draft-07 forbids an empty allOf: a slot with no registered kinds has only the kind check.
  if (ids.length) {
    schema.allOf = ids.map((id) => ({
      if: { properties: { kind: { const: id } }, required: ['kind'] },
      then: { $ref: refTo(definitionKey(slot.point, id)) },
    }));
  }
  if (slot.defaultKind && ids.includes(slot.defaultKind)) schema.default = { kind: slot.defaultKind };
  return schema;
}

const int = (min?: number, extra: Schema = {}): Schema => ({ type: 'integer', ...(min === undefined ? {} : { minimum: min }), ...extra });

/** Metric ids enabled by default, when registered. */
const DEFAULT_METRICS = ['ged', 'hungarian-iou'];

export function buildSchema(registry: Registry): Schema {
  const slot = (...path: string[]) => kindSchema(registry, KIND_SLOTS.find((s) => s.path.join('.') === path.join('.'))!);
  const metricIds = registry.ids('metrics');
  const definitions: Record<string, Schema> = {};
  for (const slot of [...KIND_SLOTS, METRIC_SLOT]) {
    for (const id of kindsFor(registry, slot)) definitions[definitionKey(slot.point, id)] = closedOptions(id, registry.get(slot.point, id)!.contribution.options);
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://punet.dev/schema/spec.json',
    title: 'punet resolved spec',
    type: 'object',
    additionalProperties: false,
    required: ['model', 'input', 'architecture', 'loss', 'train'],
    properties: {
      model: { type: 'string', minLength: 1, description: 'The model name (`model "name" { ... }`).' },
      use: { type: 'array', items: { type: 'string' }, default: [], description: 'Plugin modules (`use "./plugin.js"`).' },
      input: {
        type: 'object',
        additionalProperties: false,
        required: ['size'],
        description: 'Image shape and number of classes.',
        properties: {
          size: { type: 'array', items: int(1), minItems: 2, maxItems: 2, unit: 'px', description: 'height x width in pixels, e.g. 128x128.' },
          channels: int(1, { default: 1, description: 'Image channels (1 = grey).' }),
          classes: int(undefined, { default: 2, description: 'Classes including background (>= 2).' }),
          // No schema default: specs (and run folders) written before it resolve exactly as before.
          normalize: {
            type: 'string',
            enum: ['none', 'dataset', 'percentile', 'z-score'],
            description: 'Image normalisation at train, eval, sample and export: none (default), dataset (z-score with the training split mean/std), percentile (per image 0.5-99.5 % window to [0, 1]), z-score (per image).',
          },
        },
      },
      architecture: slot('architecture'),
      unet: slot('unet'),
      prior: slot('prior'),
      posterior: slot('posterior'),
      latent: slot('latent'),
      combiner: slot('combiner'),
      loss: {
        type: 'object',
        additionalProperties: false,
        required: ['reconstruction'],
        properties: {
          reconstruction: slot('loss', 'reconstruction'),
          kl: slot('loss', 'kl'),
          objective: slot('loss', 'objective'),
          regularization: slot('loss', 'regularization'),
        },
      },
      eval: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          distance: slot('eval', 'distance'),
          samples: { type: 'array', items: int(1), minItems: 1, default: [1, 4, 8, 16], description: 'Sample counts to report.' },
          metrics: {
            type: 'array',
            // A plain id takes the metric's default options; `kind { options }` sets them.
            items: {
              if: { type: 'string' },
              then: metricIds.length ? { enum: metricIds } : { not: {} },
              else: kindSchema(registry, METRIC_SLOT),
            },
            default: DEFAULT_METRICS.filter((m) => metricIds.includes(m)),
            description: 'Metrics to report: ids (`ged`) or metrics with options (`my/metric { k: 3 }`).',
          },
        },
      },
      train: {
        type: 'object',
        additionalProperties: false,
        required: ['optimizer', 'steps'],
        properties: {
          optimizer: slot('train', 'optimizer'),
          schedule: slot('train', 'schedule'),
          data: slot('train', 'data'),
          batch_size: int(1, { default: 16 }),
          steps: int(undefined, { unit: 'steps', description: 'Training steps (>= 1).' }),
          seed: int(0, { default: 0 }),
          validate_every: int(0, { default: 1000, unit: 'steps', description: '0 = never.' }),
          validate_samples: int(1, { default: 16 }),
          select_by: {
            type: 'string',
            enum: ['ged', 'ged-hm-iou', 'last'],
            description: "Which validation picks best/: 'ged' (default), 'ged-hm-iou' (GED + 1 - HM-IoU) or 'last' (no selection).",
          },
          checkpoint_every: int(0, { default: 1000, unit: 'steps', description: '0 = never.' }),
          backend: { type: 'string', enum: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'], default: 'auto' },
          early_stop: {
            type: 'object',
            additionalProperties: false,
            required: ['patience'],
            description: 'Stop when the validation metric has not improved for `patience` validations.',
            properties: {
              metric: { type: 'string', enum: ['ged'], default: 'ged', description: 'Validation metric (lower is better).' },
              patience: int(1, { unit: 'validations', description: 'Validations without improvement before stopping.' }),
              min_delta: { type: 'number', minimum: 0, default: 0, description: 'Smallest decrease that counts as an improvement.' },
            },
          },
        },
      },
      sweep: {
        type: 'object',
        additionalProperties: false,
        description: 'Defaults for `punet sweep` on this spec (ignored by compile-and-train).',
        properties: {
          seeds: int(1, { default: 1, description: 'Runs per variant and grid point.' }),
          grid: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_.]*=.+$' }, default: [], description: 'Grid axes, "PATH=V1,V2".' },
          variants: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Other spec files swept alongside this one (relative to it).' },
        },
      },
    },
    definitions,
  };
}

// inlineRefs: false compiles each kind's options once (as its own function) however many slots share it.
const AJV_OPTIONS = { allErrors: true, useDefaults: true, strict: false, inlineRefs: false } as const;
const require = createRequire(import.meta.url);

/** ajv is loaded only when a schema must actually be compiled (not on a disk-cache hit). */
function ajvClass(): typeof AjvModule.default {
  const mod = require('ajv') as { default?: typeof AjvModule.default } & typeof AjvModule.default;
  return mod.default ?? mod;
}

export interface CompiledSchema {
  schema: Schema;
  validate: ValidateFunction;
}

const cache = new WeakMap<Registry, { signature: string; compiled: CompiledSchema }>();

/** What is registered, as a string: a change (a plugin loaded later) invalidates the cache. */
function signature(registry: Registry): string {
  return registry.pluginNames().join('\n');
}

/**
 * The compiled validator for `registry` (built and compiled once per registry content). Each
 * kind's options are compiled as their own function, which the compiler's option validation
 * uses too (optionValidator): one compiled validator per contribution.
 */
export function compiledSchema(registry: Registry): CompiledSchema {
  const sig = signature(registry);
  const hit = cache.get(registry);
  if (hit && hit.signature === sig) return hit.compiled;
  const schema = buildSchema(registry);
  const { validate, options } = compileWithDiskCache(schema);
  for (const slot of [...KIND_SLOTS, METRIC_SLOT]) {
    for (const id of kindsFor(registry, slot)) {
      const fn = options[definitionKey(slot.point, id)];
      if (fn) shared.set(registry.get(slot.point, id)!.contribution, fn);
    }
  }
  const compiled = { schema, validate };
  cache.set(registry, { signature: sig, compiled });
  return compiled;
}

/** Compiled options validators by contribution: the front end's, or compiled on first use. */
const shared = new WeakMap<object, ValidateFunction>();
let ownAjv: InstanceType<typeof AjvModule.default> | undefined;

/**
 * The compiled validator of a contribution's options (closed: unknown options are errors, defaults
 * applied): the very function the spec front end validated them with when it has run, else
 * compiled here once. Throws ajv's error for an invalid schema.
 */
export function optionValidator(id: string, contribution: { options: OptionsSchema }): ValidateFunction {
  let fn = shared.get(contribution);
  if (!fn) {
    ownAjv ??= new (ajvClass())(AJV_OPTIONS);
    fn = ownAjv.compile(closedOptions(id, contribution.options));
    shared.set(contribution, fn);
  }
  return fn;
}

/** The id under which a kind's options schema is compiled (its own schema, referenced from the spec's). */
function optionsId(key: string): string {
  return `punet:options/${encodeURIComponent(key)}`;
}

/**
 * The spec schema as ajv compiles it: each `#/definitions/<key>` becomes its own schema (id
 * optionsId(key)), so the function compiled for it is the one the compiler's options validation
 * gets (a fragment of the root would be compiled a second time).
 */
function forCompiling(schema: Schema): { root: Schema; options: Record<string, Schema> } {
  const definitions = (schema.definitions as Record<string, Schema> | undefined) ?? {};
  const options = Object.fromEntries(Object.entries(definitions).map(([key, def]) => [key, { ...def, $id: optionsId(key) }]));
  const root = JSON.parse(JSON.stringify({ ...schema, definitions: undefined }), (k, v) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/') ? optionsId(v.slice('#/definitions/'.length).replace(/~1/g, '/').replace(/~0/g, '~')) : v,
  ) as Schema;
  return { root, options };
}

interface Compiled {
  validate: ValidateFunction;
  /** Each kind's options validator by definition key. */
  options: Record<string, ValidateFunction>;
}

/**
 * Compiling the whole schema with ajv takes a few hundred milliseconds, most of `punet check`'s
 * cold start. The generated validators (ajv "standalone" code: the spec's and each kind's
 * options') are therefore cached on disk under node_modules/.cache/punet-schema, keyed by a hash
 * of the schema and the ajv version: the same registry compiles once per machine.
 * PUNET_SCHEMA_CACHE=0 disables it; any cache problem falls back to compiling in memory.
 */
function compileWithDiskCache(schema: Schema): Compiled {
  const { root, options } = forCompiling(schema);
  const dir = schemaCacheDir();
  const compileIn = (ajv: InstanceType<typeof AjvModule.default>): Compiled => {
    for (const def of Object.values(options)) ajv.addSchema(def);
    const validate = ajv.compile(root);
    return { validate, options: Object.fromEntries(Object.keys(options).map((key) => [key, ajv.getSchema(optionsId(key))!])) };
  };
  if (!dir) return compileIn(new (ajvClass())(AJV_OPTIONS));
  const version = (require('ajv/package.json') as { version: string }).version;
  const key = createHash('sha256').update(`${version}\n${JSON.stringify(AJV_OPTIONS)}\n${JSON.stringify(schema)}`).digest('hex').slice(0, 24);
  const file = path.join(dir, `spec-${key}.cjs`);
  if (fs.existsSync(file)) {
    try {
      const mod = require(file) as Record<string, ValidateFunction>;
      const validate = mod[SPEC_EXPORT];
      if (typeof validate === 'function') return { validate, options: Object.fromEntries(Object.keys(options).map((k) => [k, mod[k]!])) };
    } catch {
      // a corrupt or foreign file: recompile below and overwrite it
    }
  }
  const ajv = new (ajvClass())({ ...AJV_OPTIONS, code: { source: true } });
  const compiled = compileIn(ajv);
  try {
    const standalone = require('ajv/dist/standalone') as { default: (ajv: unknown, refs: Record<string, string>) => string };
    const refs: Record<string, string> = { [SPEC_EXPORT]: String(schema.$id), ...Object.fromEntries(Object.keys(options).map((k) => [k, optionsId(k)])) };
    const code = standalone.default(ajv, refs);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  } catch {
    // read-only install, full disk...: the in-memory validators still work
  }
  return compiled;
}

/** The spec validator's export name in the cached module (kinds' are their definition keys, which contain ':'). */
const SPEC_EXPORT = 'spec';

function schemaCacheDir(): string | undefined {
  const env = process.env.PUNET_SCHEMA_CACHE;
  if (env === '0' || env === 'false') return undefined;
  if (env) return path.resolve(env);
  try {
    const ajvMain = require.resolve('ajv');
    const marker = `${path.sep}node_modules${path.sep}`;
    const at = ajvMain.lastIndexOf(marker);
    return at < 0 ? undefined : path.join(ajvMain.slice(0, at + marker.length), '.cache', 'punet-schema');
  } catch {
    return undefined;
  }
}

/** The options schema of the branch of `slotSchema` whose kind is `kind` (following its $ref). */
export function branchFor(root: Schema, slotSchema: Schema | undefined, kind: unknown): Schema | undefined {
  for (const branch of (slotSchema?.allOf as Schema[] | undefined) ?? []) {
    const cond = ((branch.if as Schema | undefined)?.properties as Record<string, Schema> | undefined)?.kind;
    if (!cond || cond.const !== kind) continue;
    const then = branch.then as Schema;
    if (typeof then.$ref !== 'string') return then;
    const key = then.$ref.replace('#/definitions/', '').replace(/~1/g, '/').replace(/~0/g, '~');
    return (root.definitions as Record<string, Schema> | undefined)?.[key];
  }
  return undefined;
}
