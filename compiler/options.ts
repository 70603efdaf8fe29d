/**
 * Looks up a `{ kind, ...options }` entry of the resolved spec in the registry and validates its
 * options against the contribution's JSON Schema (defaults applied, then the contribution's own
 * `check`). Errors are CompileErrors naming the spec path and the plugin.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { BlockRole, CheckContext, Contributions, ExtensionPoint, KindSpec, ResolvedSpec } from './api.js';
import { BLOCK_ROLES } from '../spec/types.js';
import type { Registered, Registry } from './registry.js';
import { CompileError, joinPath } from './errors.js';
import { wrapContribution } from './plugin-loader.js';
import { optionValidator } from '../spec/schema.js';

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
  /** The spec the entry belongs to: contributions' `check` sees it (and `input`). */
  spec: Readonly<ResolvedSpec>,
): ResolvedEntry<P> {
  if (!entry || typeof entry.kind !== 'string') throw new CompileError(path, `missing (needs a { kind: ... } ${POINT_LABEL[point]} entry)`);
  const registered = lookup(registry, point, entry.kind, path);
  const { kind: _kind, ...raw } = entry;
  const options = validateOptions(registered, structuredClone(raw), path, checkContextFor(spec, path));
  // A third-party contribution's errors are reported with its plugin, point, id and spec path.
  const contribution = registered.builtin ? registered.contribution : wrapContribution(registered, path);
  return { registered, contribution, options, path };
}

/** What a contribution's `check` sees for the entry at `path`. */
export function checkContextFor(spec: Readonly<ResolvedSpec>, path: string): CheckContext {
  const role = (BLOCK_ROLES as readonly string[]).includes(path) ? (path as BlockRole) : undefined;
  return { input: spec.input, spec, path, ...(role ? { role } : {}) };
}

/** Validates (and fills defaults into) `options`, then runs the contribution's own `check`; returns the options. */
export function validateOptions(
  registered: Registered<ExtensionPoint>,
  options: Record<string, unknown>,
  path: string,
  checkContext: CheckContext,
): Record<string, unknown> {
  const contribution = registered.contribution;
  const where = `${POINT_LABEL[registered.point]} kind '${registered.id}' of plugin '${registered.plugin.name}'`;
  // The same compiled validator the spec front end used for these options (one per contribution).
  let validate: ValidateFunction;
  try {
    validate = optionValidator(registered.id, contribution);
  } catch (err) {
    throw new CompileError(path, `${where} has an invalid options schema: ${(err as Error).message}`, registered.plugin.name);
  }
  if (!validate(options)) {
    const first = validate.errors![0]!;
    const known = Object.keys((contribution.options as { properties?: object }).properties ?? {});
    const all = validate.errors!.map((e) => describe(e, known)).join('; ');
    throw new CompileError(joinPath(path, errorPath(first)), `${all} (${where})`, registered.plugin.name);
  }
  const problems = (contribution.check?.(options, checkContext) ?? []).filter((p) => (p.severity ?? 'error') === 'error');
  if (problems.length) {
    throw new CompileError(
      problems[0]!.at ?? joinPath(path, problems[0]!.option),
      // The path names the first problem's option; later ones name theirs.
      problems.map((p, i) => (i > 0 && p.option ? `${p.option}: ${p.message}` : p.message)).join('; ') + ` (${where})`,
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
