/**
 * Stage 5: semantic checks on the validated JSON (defaults applied): rules that span fields or
 * need the registry, which JSON Schema cannot express. Each check is its own function with its
 * own code; a check skips values that already have a schema error, to avoid double reports.
 */
import type { Registry } from '../compiler/registry.js';
import type { OptionProblem } from '../compiler/api.js';
import type { Range } from './ast.js';
import { CODES, error, warning, type Diagnostic } from './diagnostics.js';
import { isUnder } from './pointer.js';
import { kindsFor } from './schema.js';
import { KIND_SLOTS } from './slots.js';
import type { JsonObject, Origins } from './to-json.js';
import { originOf } from './validate.js';
import { BLOCK_ROLES } from './types.js';
import type { ResolvedSpec } from './types.js';
import { slotOrder } from '../compiler/contracts.js';
import { checkContextFor } from '../compiler/options.js';

export interface CheckContext {
  spec: JsonObject;
  registry: Registry;
  /** Source range of a JSON pointer (nearest ancestor with one); `key` prefers the key's range. */
  at(ptr: string, key?: boolean): Range | undefined;
  /** Whether the schema already reported an error at or under `ptr` (or above it). */
  broken(ptr: string): boolean;
}

export type Check = (ctx: CheckContext) => Diagnostic[];

const obj = (v: unknown): JsonObject | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const numList = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);

export const checkLatentSize: Check = ({ spec, at, broken }) => {
  const size = num(obj(spec.latent)?.size);
  if (size === undefined || size >= 1 || broken('/latent/size')) return [];
  return [error(CODES.latentSize, `latent size must be at least 1 (the paper uses 6); found ${size}`, at('/latent/size'))];
};

export const checkClasses: Check = ({ spec, at, broken }) => {
  const classes = num(obj(spec.input)?.classes);
  if (classes === undefined || classes >= 2 || broken('/input/classes')) return [];
  return [error(CODES.classes, `'input.classes' counts the background too, so it must be at least 2 (2 = background + lesion); found ${classes}`, at('/input/classes'))];
};

export const checkWidthsMatchLevels: Check = ({ spec, at, broken }) => {
  const out: Diagnostic[] = [];
  for (const role of BLOCK_ROLES) {
    const block = obj(spec[role]);
    const levels = num(block?.levels);
    const widths = numList(block?.widths);
    if (levels === undefined || !widths || broken(`/${role}`)) continue;
    if (widths.length !== levels) {
      out.push(error(CODES.widthsLevels, `'${role}.widths' lists ${widths.length} widths but '${role}.levels' is ${levels}: give one width per level`, at(`/${role}/widths`)));
    }
  }
  return out;
};

export const checkLearningRate: Check = ({ spec, at, broken }) => {
  const out: Diagnostic[] = [];
  const optimizer = obj(obj(spec.train)?.optimizer);
  const lr = num(optimizer?.lr);
  if (lr !== undefined && !broken('/train/optimizer/lr')) {
    if (lr <= 0) out.push(error(CODES.learningRate, `the learning rate must be > 0; found ${lr}`, at('/train/optimizer/lr')));
    // The divergence report is about Adam (Kohl et al.'s optimiser); SGD rates are on another scale.
    else if (lr > 1e-3 && optimizer?.kind === 'adam') out.push(warning(CODES.highLearningRate, `learning rate ${lr} is above 1e-3, which is reported to make the Probabilistic U-Net diverge (NaN); the paper uses 1e-4`, at('/train/optimizer/lr')));
  }
  const values = numList(obj(obj(spec.train)?.schedule)?.values);
  values?.forEach((v, i) => {
    if (v <= 0 && !broken(`/train/schedule/values/${i}`)) {
      out.push(error(CODES.learningRate, `learning rates in the schedule must be > 0; found ${v}`, at(`/train/schedule/values/${i}`)));
    }
  });
  return out;
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

/** Each contribution may check its own options beyond JSON Schema (`check(options)` in the plugin API). */
export const checkContributionOptions: Check = ({ spec, registry, at, broken }) => {
  const out: Diagnostic[] = [];
  for (const slot of KIND_SLOTS) {
    const ptr = '/' + slot.path.join('/');
    let block: unknown = spec;
    for (const seg of slot.path) block = obj(block)?.[seg];
    const kind = obj(block)?.kind;
    // Checks may read `input`: skip them while it is broken (its own error is reported).
    if (typeof kind !== 'string' || broken(ptr) || broken('/input')) continue;
    const entry = registry.get(slot.point, kind);
    if (!entry?.contribution.check) continue;
    const { kind: _kind, ...options } = obj(block)!;
    let problems: OptionProblem[];
    try {
      problems = entry.contribution.check(structuredClone(options), checkContextFor(spec as unknown as ResolvedSpec, slot.path.join('.'))) ?? [];
    } catch (e) {
      problems = [{ option: '', message: `its option check failed: ${(e as Error)?.message ?? String(e)}` }];
    }
    for (const p of problems) {
      const where = p.at ? `/${p.at.split('.').join('/')}` : p.option ? `${ptr}/${p.option.split('.').join('/')}` : ptr;
      const report = p.severity === 'warning' ? warning : error;
      const code = p.code ?? (p.severity === 'warning' ? CODES.optionWarning : CODES.optionCheck);
      out.push(report(code, `${slot.what} kind '${kind}': ${p.message}`, at(where, !p.option && !p.at)));
    }
  }
  return out;
};

/**
 * The built-in synthetic images are already in [0, 1] with fixed contrast; normalising them
 * changes what the published reference numbers were measured on.
 */
export const checkNormalizeData: Check = ({ spec, at, broken }) => {
  const mode = obj(spec.input)?.normalize;
  const data = obj(obj(spec.train)?.data);
  if (typeof mode !== 'string' || mode === 'none' || broken('/input/normalize') || data?.kind !== 'synthetic') return [];
  return [
    warning(
      CODES.normalizeSynthetic,
      `'input.normalize: ${mode}' changes the built-in synthetic images, so results are not comparable to the reference numbers (docs/language.md); use it for imported data, or 'none' here`,
      at('/input/normalize'),
    ),
  ];
};

export const SEMANTIC_CHECKS: readonly Check[] = [
  checkLatentSize,
  checkClasses,
  checkWidthsMatchLevels,
  checkLearningRate,
  checkSteps,
  checkEarlyStop,
  checkArchitectureRoles,
  checkContributionOptions,
  checkNormalizeData,
];

export function runSemanticChecks(spec: JsonObject, origins: Origins, registry: Registry, errorPointers: Set<string>): Diagnostic[] {
  const ctx: CheckContext = {
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
