/**
 * Stage 4b: validates the merged JSON against the registry-built schema (defaults applied in
 * place) and turns each ajv error into a diagnostic at the source range of the offending value,
 * found through the JSON-pointer -> origin map. A missing property is reported at the
 * enclosing block.
 */
import type { ErrorObject } from 'ajv';
import type { Registry } from '../compiler/registry.js';
import type { Range } from './ast.js';
import { CODES, error, type Diagnostic } from './diagnostics.js';
import { dotted, parentOf, pointer, segmentsOf } from './pointer.js';
import { branchFor, compiledSchema, kindsFor } from './schema.js';
import { KIND_SLOTS, slotAt } from './slots.js';
import { didYouMean, suggestionSuffix } from './suggest.js';
import type { JsonObject, Origin, Origins } from './to-json.js';

const MAX_DESCRIBED = 100;

export interface SchemaResult {
  diagnostics: Diagnostic[];
  /** Pointers with a schema error at or below them (semantic checks skip those). */
  errorPointers: Set<string>;
}

/** Validates `value` in place (fills defaults). */
export function validateSchema(value: JsonObject, origins: Origins, registry: Registry): SchemaResult {
  const { validate } = compiledSchema(registry);
  validate(value);
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  const diagnostics: Diagnostic[] = [];
  const errorPointers = new Set<string>();
  const seen = new Set<string>();
  for (const e of errors) {
    // Thousands of errors (a wrong file) are capped later anyway: describing them costs time.
    if (diagnostics.length >= 2 * MAX_DESCRIBED) {
      errorPointers.add(offendingPointer(e));
      continue;
    }
    const d = describeError(e, value, origins, registry);
    if (!d) continue;
    const key = `${d.code}|${d.message}|${d.range?.start.offset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(d);
    errorPointers.add(offendingPointer(e));
  }
  return { diagnostics, errorPointers };
}

/** The pointer of the value at fault: for a missing or unknown key, the key's own path. */
function offendingPointer(e: ErrorObject): string {
  const segs = segmentsOf(e.instancePath);
  if (e.keyword === 'required') return pointer([...segs, (e.params as { missingProperty: string }).missingProperty]);
  if (e.keyword === 'additionalProperties') return pointer([...segs, (e.params as { additionalProperty: string }).additionalProperty]);
  return e.instancePath;
}

/** The origin of `ptr`, or of its nearest ancestor that has one. */
export function originOf(origins: Origins, ptr: string): Origin | undefined {
  let p = ptr;
  for (;;) {
    const o = origins.get(p);
    if (o) return o;
    if (p === '') return undefined;
    p = parentOf(p);
  }
}

function get(value: unknown, ptr: string): unknown {
  let v = value;
  for (const s of segmentsOf(ptr)) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (v && typeof v === 'object') return typeof (v as JsonObject).kind === 'string' ? `a block (kind '${(v as JsonObject).kind}')` : 'a section';
  return String(v);
}

const typeName: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'a name or "string"',
  boolean: 'true or false',
  array: 'a [list]',
  object: 'a block or section',
};

/** `unet block 'unet'` / `'train'` / `'train.optimizer'`: how the owner of an option is named. */
function ownerName(ptr: string, value: unknown): string {
  const slot = slotAt(ptr);
  if (slot) {
    const kind = (get(value, ptr) as JsonObject | undefined)?.kind;
    return typeof kind === 'string' ? `${slot.what} kind '${kind}'` : `'${dotted(ptr)}'`;
  }
  return ptr === '' ? 'the model' : `'${dotted(ptr)}'`;
}

function describeError(e: ErrorObject, value: JsonObject, origins: Origins, registry: Registry): Diagnostic | undefined {
  const ptr = e.instancePath;
  const at = (p: string, key = false): Range | undefined => {
    const o = originOf(origins, p);
    return key ? (o?.keyRange ?? o?.range) : o?.range;
  };
  const actual = get(value, ptr);
  const name = `'${dotted(ptr)}'`;

  switch (e.keyword) {
    case 'enum': {
      const kindSlot = ptr.endsWith('/kind') ? slotAt(parentOf(ptr)) : undefined;
      if (kindSlot) return unknownKind(kindSlot, String(actual), at(ptr), registry);
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      if (/^\/eval\/metrics\/\d+$/.test(ptr)) {
        return error(CODES.unknownMetric, `unknown metric ${show(actual)}${suggestionSuffix(String(actual), allowed)}`, at(ptr), [`known metrics: ${allowed.join(', ')}`]);
      }
      const blockHint = actual && typeof actual === 'object' ? ` (a value is written \`${segmentsOf(ptr).at(-1)}: ${allowed[0]}\`)` : '';
      return error(CODES.notAllowed, `${name} must be one of ${allowed.join(', ')}; found ${show(actual)}${blockHint}${suggestionSuffix(String(actual), allowed)}`, at(ptr));
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const owner = get(value, ptr) as JsonObject;
      const schemaProps = knownKeys(registry, ptr, owner);
      const known = schemaProps.length ? schemaProps : Object.keys(owner ?? {});
      const slot = slotAt(ptr);
      const where = pointer([...segmentsOf(ptr), extra]);
      const notes = known.length ? [`known ${slot ? 'options' : 'fields'}: ${known.join(', ')}`] : [`kind '${String(owner?.kind)}' takes no options`];
      if (slot) {
        return error(CODES.unknownOption, `unknown option '${extra}' for ${slot.what} kind '${String(owner?.kind)}'${suggestionSuffix(extra, known)}`, at(where, true), notes);
      }
      const container = ptr === '' ? 'the model' : `'${dotted(ptr)}'`;
      const topHint = ptr === '' && !known.includes(extra) ? topLevelHint(extra) : '';
      return error(CODES.unknownField, `unknown field '${extra}' in ${container}${suggestionSuffix(extra, known)}${topHint}`, at(where, true), notes);
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const childSlot = slotAt(pointer([...segmentsOf(ptr), missing]));
      if (childSlot) {
        const kinds = kindsFor(registry, childSlot);
        return error(
          CODES.missing,
          `missing ${childSlot.what} '${dotted(pointer([...segmentsOf(ptr), missing]))}': add \`${missing} <kind>\``,
          at(ptr, true),
          [kinds.length ? `known kinds: ${kinds.join(', ')}` : `no ${childSlot.what} kinds are registered`],
        );
      }
      if (missing === 'kind') return error(CODES.missing, `${name} has no kind: write \`${segmentsOf(ptr).at(-1)} <kind> { ... }\``, at(ptr, true));
      return error(CODES.missing, `${ownerName(ptr, value)} is missing '${missing}'`, at(ptr, true));
    }
    case 'type': {
      const want = String((e.params as { type: string }).type);
      const slot = slotAt(ptr);
      if (slot && want === 'object') {
        return error(CODES.wrongType, `${name} is a block, not a value: write \`${segmentsOf(ptr).at(-1)} <kind>\` or \`${segmentsOf(ptr).at(-1)} <kind> { options }\``, at(ptr));
      }
      const hint = actual && typeof actual === 'object' && !Array.isArray(actual) && want !== 'object' ? ` (write \`${segmentsOf(ptr).at(-1)}: value\`)` : '';
      return error(CODES.wrongType, `${name} must be ${typeName[want] ?? want}; found ${show(actual)}${hint}`, at(ptr));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = e.params as { comparison: string; limit: number };
      return error(CODES.outOfRange, `${name} must be ${p.comparison} ${p.limit}; found ${show(actual)}`, at(ptr));
    }
    case 'minItems':
    case 'maxItems': {
      const limit = (e.params as { limit: number }).limit;
      const len = Array.isArray(actual) ? actual.length : 0;
      if (ptr === '/input/size') return error(CODES.outOfRange, `'input.size' must be height x width (2 numbers, e.g. 128x128); found ${len}`, at(ptr));
      return error(CODES.outOfRange, `${name} must have ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${limit} item${limit === 1 ? '' : 's'}; found ${len}`, at(ptr));
    }
    case 'minLength':
      return error(CODES.outOfRange, `${name} must not be empty`, at(ptr));
    case 'const': {
      const want = (e.params as { allowedValue: unknown }).allowedValue;
      return error(CODES.notAllowed, `${name} must be ${show(want)}; found ${show(actual)}`, at(ptr));
    }
    case 'not':
      if (ptr.endsWith('/kind')) {
        const slot = slotAt(parentOf(ptr));
        if (slot) return unknownKind(slot, String(actual), at(ptr), registry);
      }
      if (/^\/eval\/metrics\/\d+$/.test(ptr)) return error(CODES.unknownMetric, `unknown metric ${show(actual)}: no metrics are registered`, at(ptr));
      return error(CODES.schemaOther, `${name} ${e.message ?? 'is invalid'}`, at(ptr));
    default:
      return error(CODES.schemaOther, `${ptr === '' ? 'the model' : name} ${e.message ?? 'is invalid'}`, at(ptr));
  }
}

/** The keys the schema allows at `ptr` (a block's options, or a section's fields). */
function knownKeys(registry: Registry, ptr: string, owner: JsonObject | undefined): string[] {
  const root = compiledSchema(registry).schema;
  let node: Record<string, unknown> | undefined = root;
  for (const seg of segmentsOf(ptr)) {
    const items = node?.items as Record<string, unknown> | undefined;
    // A list item (an `eval.metrics` entry): its block form is the `else` of the items schema.
    node = /^\d+$/.test(seg) && items ? ((items.else as Record<string, unknown> | undefined) ?? items) : (node?.properties as Record<string, Record<string, unknown>> | undefined)?.[seg];
  }
  const own = Object.keys((node?.properties as object | undefined) ?? {});
  const branch = Object.keys((branchFor(root, node, owner?.kind)?.properties as object | undefined) ?? {});
  return [...new Set([...own, ...branch])].filter((k) => k !== 'kind');
}

function topLevelHint(extra: string): string {
  const sections = ['input', 'loss', 'eval', 'train'];
  const suggestion = didYouMean(extra, sections);
  return suggestion ? '' : ` (the model holds: input, architecture, ${KIND_SLOTS.filter((s) => s.point === 'blocks').map((s) => s.path[0]).join(', ')}, loss, eval, train)`;
}

/** One clear error for an unknown kind: the known kinds, a suggestion, or the role it can fill. */
function unknownKind(slot: (typeof KIND_SLOTS)[number], kind: string, range: Range | undefined, registry: Registry): Diagnostic {
  const known = kindsFor(registry, slot);
  const label = slot.role ? `${slot.what} kind '${kind}' for role '${slot.role}'` : `${slot.what} kind '${kind}'`;
  if (slot.point === 'blocks' && slot.role) {
    const other = registry.get('blocks', kind);
    if (other) {
      return error(CODES.wrongRole, `block kind '${kind}' cannot fill role '${slot.role}' (it fills: ${other.contribution.roles.join(', ')})`, range, [
        known.length ? `kinds for role '${slot.role}': ${known.join(', ')}` : `no registered block kind fills role '${slot.role}'`,
      ]);
    }
  }
  if (slot.point === 'metrics') {
    return error(CODES.unknownMetric, `unknown metric '${kind}'${suggestionSuffix(kind, known)}`, range, [
      known.length ? `known metrics: ${known.join(', ')}` : 'no metrics are registered',
      'a metric from a plugin needs `use "<module>"` at the top of the spec',
    ]);
  }
  const notes = [
    known.length ? `known ${slot.what} kinds: ${known.join(', ')}` : `no ${slot.what} kinds are registered`,
    'a kind from a plugin needs `use "<module>"` at the top of the spec',
  ];
  return error(CODES.unknownKind, `unknown ${label}${suggestionSuffix(kind, known)}`, range, notes);
}
