/**
 * The .punet front end: `loadSpec(file, { registry })` reads a spec (and what it extends),
 * validates it against the registry and returns the resolved spec or diagnostics.
 *
 * Stages (each its own module): lexer -> parser -> AST -> JSON layer (to-json) -> extends merge
 * (load, merge) -> JSON Schema validation with defaults (schema, validate, units) -> semantic
 * checks (semantic) -> canonical key order (canonical). Nothing here throws for a bad spec.
 */
import * as path from 'node:path';
import type { Registry } from '../compiler/registry.js';
import { canonicalize } from './canonical.js';
import { CODES, error, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { loadChain, type LoadedChain, type UseRef } from './load.js';
import { applyOverrideTexts } from './overrides.js';
import { compiledSchema } from './schema.js';
import { runSemanticChecks } from './semantic.js';
import type { ResolvedSpec } from './types.js';
import { checkUnits } from './units.js';
import { validateSchema } from './validate.js';
import type { JsonObject } from './to-json.js';

export type { Diagnostic, JsonDiagnostic, Severity } from './diagnostics.js';
export { formatDiagnostic, formatDiagnostics, hasErrors, toJsonDiagnostic, CODES } from './diagnostics.js';
export { buildSchema } from './schema.js';
export type { UseRef } from './load.js';

/** A `use` line handed to the plugin-loading hook. */
export interface PluginUse {
  /** As written in the spec. */
  specifier: string;
  /** Absolute path for relative specifiers, else the package name. */
  module: string;
  /** Folder of the spec that wrote it (package names resolve from here). */
  fromDir: string;
}

/** A `use` module that could not be loaded, reported at its `use` line. */
export interface PluginLoadFailure {
  module: string;
  message: string;
}

export interface LoadSpecOptions {
  registry: Registry;
  /**
   * Registers the spec's own plugin modules (resolved `use` targets, in order) into `registry`
   * before validation. Without it, `use` targets are only listed in `spec.use`.
   */
  loadPlugins?: (uses: PluginUse[], registry: Registry) => Promise<void | PluginLoadFailure[]>;
  /** Text to use instead of reading the file (editors, tests). Extended files are read from disk. */
  text?: string;
  /** `--set PATH=VALUE` overrides, applied in order over the spec (spec/overrides.ts). */
  overrides?: readonly string[];
}

export interface SpecResult {
  /** Present when there are no errors (warnings allowed). */
  spec?: ResolvedSpec;
  diagnostics: Diagnostic[];
  /** Text of every file read, for printing diagnostics. */
  sources: Map<string, string>;
  /** The files of the extends chain, base first. */
  files: string[];
  uses: UseRef[];
}

/** Loads, resolves and validates a spec file. Never rejects for a bad spec. */
export async function loadSpec(file: string, opts: LoadSpecOptions): Promise<SpecResult> {
  const abs = path.resolve(file);
  const chain = guard(() => loadChain(abs, opts.text), abs);
  if ('crashed' in chain) return chain.crashed;
  const extra: Diagnostic[] = [];
  if (opts.loadPlugins && chain.layer && chain.uses.length) {
    try {
      const uses = chain.uses.map((u) => ({ specifier: u.specifier, module: u.module, fromDir: path.dirname(u.range.file) }));
      const failures = (await opts.loadPlugins(uses, opts.registry)) ?? [];
      for (const f of failures) {
        const use = chain.uses.find((u) => u.module === f.module);
        extra.push(error(CODES.pluginLoad, `cannot load plugin '${use?.specifier ?? f.module}': ${f.message}`, use?.range));
      }
    } catch (e) {
      extra.push(error(CODES.pluginLoad, `loading plugins failed: ${(e as Error)?.message ?? String(e)}`, chain.uses[0]?.range));
    }
  }
  return finish(withOverrides(chain, opts.overrides), opts.registry, extra);
}

/** Checks spec text synchronously (no plugin loading). `file` locates it for extends and messages. */
export function checkSource(text: string, file: string, registry: Registry, overrides?: readonly string[]): SpecResult {
  const abs = path.resolve(file);
  const chain = guard(() => loadChain(abs, text), abs);
  if ('crashed' in chain) return chain.crashed;
  return finish(withOverrides(chain, overrides), registry, []);
}

/** Command-line overrides act on the merged chain, after the last file. */
function withOverrides(chain: LoadedChain, overrides: readonly string[] | undefined): LoadedChain {
  if (!chain.layer || !overrides?.length) return chain;
  const applied = applyOverrideTexts(chain.layer, overrides);
  return {
    ...chain,
    layer: applied.layer,
    sources: new Map([...chain.sources, ...applied.sources]),
    diagnostics: [...chain.diagnostics, ...applied.diagnostics],
  };
}

function finish(chain: LoadedChain, registry: Registry, extra: Diagnostic[]): SpecResult {
  const base = { sources: chain.sources, files: chain.files, uses: chain.uses };
  const result = guard(() => resolve(chain, registry, extra), chain.files.at(-1) ?? '');
  if ('crashed' in result) return { ...result.crashed, ...base, diagnostics: [...chain.diagnostics, ...result.crashed.diagnostics] };
  return { ...base, ...result };
}

function resolve(chain: LoadedChain, registry: Registry, extra: Diagnostic[]): { spec?: ResolvedSpec; diagnostics: Diagnostic[] } {
  const diagnostics = [...chain.diagnostics, ...extra];
  if (!chain.layer) return { diagnostics: capDiagnostics(sortDiagnostics(diagnostics)) };
  const { model, ...rest } = chain.layer.value;
  const value: JsonObject = { model, use: chain.uses.map((u) => u.module), ...rest };
  const origins = new Map(chain.layer.origins);
  chain.uses.forEach((u, i) => origins.set(`/use/${i}`, { range: u.range }));

  let schema: Record<string, unknown>;
  try {
    schema = compiledSchema(registry).schema;
  } catch (e) {
    diagnostics.push(error(CODES.pluginLoad, `a registered plugin declares an invalid options schema: ${(e as Error).message}`, origins.get('')?.range));
    return { diagnostics: sortDiagnostics(diagnostics) };
  }
  const checked = validateSchema(value, origins, registry);
  diagnostics.push(...checked.diagnostics, ...checkUnits(value, origins, registry));
  diagnostics.push(...runSemanticChecks(value, origins, registry, checked.errorPointers));
  const sorted = capDiagnostics(sortDiagnostics(diagnostics));
  if (hasErrors(sorted)) return { diagnostics: sorted };
  return { spec: canonicalize(value, schema) as ResolvedSpec, diagnostics: sorted };
}

/** A file with thousands of problems (a wrong file, generated junk) shows the first ones only. */
export const MAX_DIAGNOSTICS = 100;

function capDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const shown = diagnostics.slice(0, MAX_DIAGNOSTICS);
  const rest = diagnostics.length - MAX_DIAGNOSTICS;
  const more = { ...error(CODES.schemaOther, `${rest} more problem${rest > 1 ? 's' : ''} not shown; fix the ones above first`), file: diagnostics[0]!.range?.file ?? diagnostics[0]!.file };
  return [...shown, more];
}

/** Last line of defence: an exception inside the front end becomes a diagnostic, never a crash. */
function guard<T>(fn: () => T, file: string): T | { crashed: SpecResult } {
  try {
    return fn();
  } catch (e) {
    const d = { ...error('E000', `internal error while checking this spec (please report it): ${(e as Error)?.message ?? String(e)}`), file };
    return { crashed: { diagnostics: [d], sources: new Map(), files: [], uses: [] } };
  }
}
