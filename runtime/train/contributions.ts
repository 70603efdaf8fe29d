/**
 * Looks up the contributions a spec names, with their options validated and defaults applied
 * through the compiler's own resolver (so training reads options exactly as compiling does).
 */
import type { Contributions, ExtensionPoint } from '../../compiler/api.js';
import type { Registry } from '../../compiler/registry.js';
import { resolveEntry } from '../../compiler/options.js';
import type { KindSpec, ResolvedSpec } from '../../spec/types.js';

export interface Resolved<P extends ExtensionPoint> {
  contribution: Contributions[P];
  options: Record<string, unknown>;
}

/** The contribution `entry.kind` at `point` of `spec` and its options; CompileError naming `path` if wrong. */
export function resolve<P extends ExtensionPoint>(registry: Registry, point: P, entry: KindSpec, path: string, spec: ResolvedSpec): Resolved<P> {
  const r = resolveEntry(registry, point, entry, path, spec);
  return { contribution: r.contribution, options: r.options };
}

/** `entry` with its contribution's defaults filled in (for kinds the runtime builds itself, e.g. `--data synthetic`). */
export function withDefaults(point: ExtensionPoint, entry: KindSpec, registry: Registry, path: string, spec: ResolvedSpec): KindSpec {
  return { kind: entry.kind, ...resolveEntry(registry, point, entry, path, spec).options };
}
