/**
 * Stage 5: semantic checks on the validated JSON (defaults applied): rules about the language's
 * own fields that JSON Schema cannot express, the roles the architecture needs, and each
 * contribution's own `check` (rules of a particular plugin live in that plugin, never here).
 * Each check is its own function with its own code; a check skips values that already have a
 * schema error, to avoid double reports.
 */
import type { ExtensionPoint, OptionProblem } from '../compiler/api.js';
import type { Registry } from '../compiler/registry.js';
import { slotOrder } from '../compiler/contracts.js';
import { checkContextFor } from '../compiler/options.js';
import type { Range } from './ast.js';
import { CODES, error, warning, type Diagnostic } from './diagnostics.js';
import { dotted, isUnder } from './pointer.js';
import { kindsFor } from './schema.js';
import { KIND_SLOTS } from './slots.js';
import type { JsonObject, Origins } from './to-json.js';
import { originOf } from './validate.js';
import { BLOCK_ROLES, type BlockRole, type ResolvedSpec } from './types.js';

export interface SemanticContext {
  spec: JsonObject;
  registry: Registry;
  /** Source range of a JSON pointer (nearest ancestor with one); `key` prefers the key's range. */
  at(ptr: string, key?: boolean): Range | undefined;
  /** Whether the schema already reported an error at or under `ptr` (or above it). */
  broken(ptr: string): boolean;
}

export type Check = (ctx: SemanticContext) => Diagnostic[];

const obj = (v: unknown): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export const checkClasses: Check = ({ spec, at, broken }) => {
  const classes = num(obj(spec.input)?.classes);
  if (classes === undefined || classes >= 2 || broken('/input/classes')) return [];
  return [error(CODES.classes, `'input.classes' counts the background too, so it must be at least 2 (2 = background + lesion); found ${classes}`, at('/input/classes'))];
};

export const checkSteps: Check = ({ spec, at, broken }) => {
  const steps = num(obj(spec.train)?.steps);
  if (steps === undefined || steps >= 1 || broken('/train/steps')) return [];
  return [error(CODES.steps, `'train.steps' must be at least 1; found ${steps}`, at('/train/steps'))];
};

/** Early stopping counts validations: without validation it would never act. */
export const checkEarlyStop: Check = ({ spec, at, broken }) => {
  const train = obj(spec.train);
  if (!obj(train?.early_stop) || broken('/train/early_stop') || broken('/train/validate_every')) return [];
  if (num(train?.validate_every) !== 0) return [];
  return [error(CODES.earlyStop, "'train.early_stop' needs validation: set 'validate_every' above 0 (e.g. validate_every: 200 steps)", at('/train/early_stop', true))];
};

/** Results are keyed by metric id: the same metric listed twice (e.g. with other options) would collide. */
export const checkDistinctMetrics: Check = ({ spec, at, broken }) => {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const entry of contributionEntries(spec).filter((e) => e.point === 'metrics')) {
    if (seen.has(entry.kind) && !broken(entry.ptr)) {
      out.push(error(CODES.duplicateMetric, `metric '${entry.kind}' is listed twice in 'eval.metrics': list each metric once`, at(entry.ptr)));
    }
    seen.add(entry.kind);
  }
  return out;
};

/** The architecture says which block roles it composes: required ones must be present. */
export const checkArchitectureRoles: Check = ({ spec, registry, at, broken }) => {
  const kind = obj(spec.architecture)?.kind;
  if (typeof kind !== 'string' || broken('/architecture')) return [];
  const arch = registry.get('architectures', kind);
  if (!arch) return [];
  const { required, optional } = slotOrder(arch.contribution);
  const out: Diagnostic[] = [];
  for (const role of required) {
    if (spec[role] !== undefined) continue;
    const slot = KIND_SLOTS.find((s) => s.role === role)!;
    const kinds = kindsFor(registry, slot);
    out.push(
      error(CODES.requiredRole, `architecture '${kind}' needs a '${role}' block: add \`${role} <kind> { ... }\``, at(''), [
        kinds.length ? `kinds for role '${role}': ${kinds.join(', ')}` : `no registered block kind fills role '${role}'`,
      ]),
    );
  }
  for (const role of BLOCK_ROLES) {
    if (spec[role] !== undefined && !required.includes(role) && !optional.includes(role)) {
      out.push(warning(CODES.unusedRole, `architecture '${kind}' does not use a '${role}' block; it is ignored (remove it, or write \`remove ${role}\` in a variant)`, at(`/${role}`, true)));
    }
  }
  return out;
};

/** A `{ kind, ...options }` entry of the spec that names a contribution, with where it sits. */
export interface ContributionEntry {
  /** JSON pointer, e.g. `/loss/kl` or `/eval/metrics/1`. */
  ptr: string;
  point: ExtensionPoint;
  kind: string;
  options: JsonObject;
  what: string;
  role?: BlockRole;
}

/** Every contribution entry of the spec: the kind slots, then each `eval.metrics` entry. */
export function contributionEntries(spec: JsonObject): ContributionEntry[] {
  const out: ContributionEntry[] = [];
  for (const slot of KIND_SLOTS) {
    let block: unknown = spec;
    for (const seg of slot.path) block = obj(block)?.[seg];
    const entry = obj(block);
    if (typeof entry?.kind !== 'string') continue;
    const { kind, ...options } = entry;
    out.push({ ptr: '/' + slot.path.join('/'), point: slot.point, kind: kind as string, options, what: slot.what, ...(slot.role ? { role: slot.role } : {}) });
  }
  const metrics = obj(spec.eval)?.metrics;
  if (Array.isArray(metrics)) {
    metrics.forEach((m, i) => {
      const entry = metricEntry(m);
      if (entry) out.push({ ptr: `/eval/metrics/${i}`, point: 'metrics', kind: entry.kind, options: entry.options, what: 'metric' });
    });
  }
  return out;
}

/** A metric is written as a plain id (`ged`) or as a block with options (`my/metric { k: 3 }`). */
function metricEntry(m: unknown): { kind: string; options: JsonObject } | undefined {
  if (typeof m === 'string') return { kind: m, options: {} };
  const entry = obj(m);
  if (typeof entry?.kind !== 'string') return undefined;
  const { kind, ...options } = entry;
  return { kind: kind as string, options };
}

/**
 * Each contribution checks its own options beyond JSON Schema (`check(options, ctx)` in the plugin
 * API), seeing the input and the whole spec; a problem's severity and code are the plugin's
 * (default E412 / W412). The compiler runs the same checks (compiler/options.ts).
 */
export const checkContributionOptions: Check = ({ spec, registry, at, broken }) => {
  const out: Diagnostic[] = [];
  for (const entry of contributionEntries(spec)) {
    // Checks may read `input`: skip them while it is broken (its own error is reported).
    if (broken(entry.ptr) || broken('/input')) continue;
    const check = registry.get(entry.point, entry.kind)?.contribution.check;
    if (!check) continue;
    let problems: OptionProblem[];
    try {
      problems = check(structuredClone(entry.options), checkContextFor(spec as unknown as ResolvedSpec, dotted(entry.ptr))) ?? [];
    } catch (e) {
      problems = [{ option: '', message: `its option check failed: ${(e as Error)?.message ?? String(e)}` }];
    }
    for (const p of problems) {
      // `at` points anywhere in the spec (e.g. `input.size`); `option` inside the entry.
      const where = p.at ? `/${p.at.split('.').join('/')}` : p.option ? `${entry.ptr}/${p.option.split('.').join('/')}` : entry.ptr;
      const message = `${entry.what} kind '${entry.kind}': ${p.message}`;
      const keyOnly = !p.option && !p.at;
      out.push(
        p.severity === 'warning'
          ? warning(p.code ?? CODES.optionWarning, message, at(where, keyOnly))
          : error(p.code ?? CODES.optionCheck, message, at(where, keyOnly)),
      );
    }
  }
  return out;
};

export const SEMANTIC_CHECKS: readonly Check[] = [checkClasses, checkSteps, checkEarlyStop, checkArchitectureRoles, checkDistinctMetrics, checkContributionOptions];

export function runSemanticChecks(spec: JsonObject, origins: Origins, registry: Registry, errorPointers: Set<string>): Diagnostic[] {
  const ctx: SemanticContext = {
    spec,
    registry,
    at: (ptr, key) => {
      const o = originOf(origins, ptr);
      return key ? (o?.keyRange ?? o?.range) : o?.range;
    },
    broken: (ptr) => [...errorPointers].some((p) => isUnder(p, ptr) || isUnder(ptr, p)),
  };
  const out: Diagnostic[] = [];
  for (const check of SEMANTIC_CHECKS) {
    try {
      out.push(...check(ctx));
    } catch (e) {
      // A check must never take down `punet check`; report it as an internal problem instead.
      out.push(error('E499', `internal error in semantic check '${check.name}': ${(e as Error).message}`, ctx.at('')));
    }
  }
  return out;
}
