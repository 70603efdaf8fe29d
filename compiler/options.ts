/**
 * Looks up a `{ kind, ...options }` entry of the resolved spec in the registry and validates its
 * options against the contribution's JSON Schema (defaults applied, then the contribution's own
 * `check`). Errors are CompileErrors naming the spec path and the plugin.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Contributions, ExtensionPoint, KindSpec } from './api.js';
import type { Registered, Registry } from './registry.js';
import { CompileError, joinPath } from './errors.js';
import { wrapContribution } from './plugin-loader.js';

/** How each extension point is named in messages. */
const POINT_LABEL: Record<ExtensionPoint, string> = {
  blocks: 'block',
  architectures: 'architecture',
  losses: 'reconstruction loss',
  klEstimators: 'KL estimator',
  objectives: 'objective',
  regularizers: 'regularizer',
  distances: 'distance',
  metrics: 'metric',
  optimizers: 'optimizer',
  schedules: 'schedule',
  dataSources: 'data source',
};

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
const validators = new WeakMap<object, ValidateFunction>();

export interface ResolvedEntry<P extends ExtensionPoint> {
  registered: Registered<P>;
  contribution: Contributions[P];
  options: Record<string, unknown>;
  /** The entry's JSON path in the spec, e.g. `loss.kl`. */
  path: string;
}

export function lookup<P extends ExtensionPoint>(registry: Registry, point: P, kind: string, path: string): Registered<P> {
  const registered = registry.get(point, kind);
  if (!registered) {
    const known = registry.ids(point);
    throw new CompileError(
      joinPath(path, 'kind'),
      `unknown ${POINT_LABEL[point]} kind '${kind}'` + (known.length ? ` (known: ${known.join(', ')})` : ' (none registered)'),
    );
  }
  return registered;
}

export function resolveEntry<P extends ExtensionPoint>(
  registry: Registry,
  point: P,
  entry: KindSpec | undefined,
  path: string,
): ResolvedEntry<P> {
  if (!entry || typeof entry.kind !== 'string') throw new CompileError(path, `missing (needs a { kind: ... } ${POINT_LABEL[point]} entry)`);
  const registered = lookup(registry, point, entry.kind, path);
  const { kind: _kind, ...raw } = entry;
  const options = validateOptions(registered, structuredClone(raw), path);
  // A third-party contribution's errors are reported with its plugin, point, id and spec path.
  const contribution = registered.builtin ? registered.contribution : wrapContribution(registered, path);
  return { registered, contribution, options, path };
}

/** Validates (and fills defaults into) `options`; returns it. */
export function validateOptions(registered: Registered<ExtensionPoint>, options: Record<string, unknown>, path: string): Record<string, unknown> {
  const contribution = registered.contribution;
  const where = `${POINT_LABEL[registered.point]} kind '${registered.id}' of plugin '${registered.plugin.name}'`;
  let validate = validators.get(contribution);
  if (!validate) {
    try {
      validate = ajv.compile(contribution.options);
    } catch (err) {
      throw new CompileError(path, `${where} has an invalid options schema: ${(err as Error).message}`, registered.plugin.name);
    }
    validators.set(contribution, validate);
  }
  if (!validate(options)) {
    const first = validate.errors![0]!;
    const known = Object.keys((contribution.options as { properties?: object }).properties ?? {});
    const all = validate.errors!.map((e) => describe(e, known)).join('; ');
    throw new CompileError(joinPath(path, errorPath(first)), `${all} (${where})`, registered.plugin.name);
  }
  // Warnings (severity 'warning') are for `punet check` to print; only errors stop compilation.
  const problems = (contribution.check?.(options) ?? []).filter((p) => (p as { severity?: string }).severity !== 'warning');
  if (problems.length) {
    throw new CompileError(
      joinPath(path, problems[0]!.option),
      problems.map((p) => (p.option ? `${p.option}: ${p.message}` : p.message)).join('; ') + ` (${where})`,
      registered.plugin.name,
    );
  }
  return options;
}

function errorPath(e: ErrorObject): string {
  const base = e.instancePath.split('/').filter(Boolean).join('.');
  if (e.keyword === 'additionalProperties') return joinPath(base, (e.params as { additionalProperty: string }).additionalProperty);
  return base;
}

function describe(e: ErrorObject, known: string[]): string {
  const at = errorPath(e);
  if (e.keyword === 'additionalProperties') {
    return `unknown option '${at}'` + (known.length ? ` (known: ${known.join(', ')})` : ' (this kind takes no options)');
  }
  if (e.keyword === 'enum') {
    return `option '${at}' ${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return at ? `option '${at}' ${e.message}` : e.message ?? 'invalid';
}
