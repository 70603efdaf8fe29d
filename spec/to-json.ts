/**
 * Stage 3: AST -> JSON "layer" (one file's contribution before extends merging), plus a map
 * from each JSON pointer to the source range it came from, so schema errors found on the
 * merged JSON can be reported at the right file:line:col.
 */
import type { BodyNode, Entry, Range, SpecFile, UnitNode, ValueNode } from './ast.js';
import { CODES, error, type Diagnostic } from './diagnostics.js';
import { pointer } from './pointer.js';

/** Marks a key deleted by `remove key`; consumed by the extends merge. */
export const REMOVE: unique symbol = Symbol('remove');

export interface Origin {
  /** The whole value (or block, or section). */
  range: Range;
  /** The key that introduced it, when there is one (unknown-option errors point here). */
  keyRange?: Range;
  /** A unit written after the value (`240k steps`), checked against the field later. */
  unit?: UnitNode;
}

export type Origins = Map<string, Origin>;

export interface JsonObject {
  [key: string]: unknown;
}

export interface Layer {
  value: JsonObject;
  origins: Origins;
}

/** Converts the model body of a parsed file. `diagnostics` receives duplicate keys and bad numbers. */
export function modelToJson(ast: SpecFile, diagnostics: Diagnostic[]): Layer | undefined {
  const model = ast.models[0];
  if (!model) return undefined;
  const origins: Origins = new Map();
  origins.set('', { range: model.name.range });
  const value: JsonObject = { model: model.name.value };
  origins.set('/model', { range: model.name.range });
  Object.assign(value, bodyToJson(model.body, [], origins, diagnostics, new Set(['model', 'use', 'extends'])));
  return { value, origins };
}

const RESERVED_HINT: Record<string, string> = {
  model: "the model's name is set by its header: `model \"name\" { ... }`",
  use: 'plugins are loaded at the top of the file, outside the model: `use "./plugin.js"`',
  extends: 'a variant names its base at the top of the file, outside the model: `extends "./base.punet"`',
  kind: "a block's kind is set by its header: `role kind { ... }`, e.g. `unet unet { ... }`",
};

function bodyToJson(body: BodyNode, path: string[], origins: Origins, diagnostics: Diagnostic[], reserved = new Set<string>()): JsonObject {
  const out: JsonObject = {};
  const seen = new Map<string, Range>();
  for (const entry of body.entries) {
    const key = entry.key.name;
    if (reserved.has(key)) {
      diagnostics.push(error(CODES.duplicateKey, RESERVED_HINT[key] ?? `'${key}' cannot be set here`, entry.key.range));
      continue;
    }
    const first = seen.get(key);
    if (first) {
      diagnostics.push(error(CODES.duplicateKey, `duplicate '${key}' (first set at line ${first.start.line}): remove one of them`, entry.key.range));
      continue;
    }
    seen.set(key, entry.key.range);
    out[key] = entryToJson(entry, [...path, key], origins, diagnostics);
  }
  return out;
}

function entryToJson(entry: Entry, path: string[], origins: Origins, diagnostics: Diagnostic[]): unknown {
  const ptr = pointer(path);
  switch (entry.type) {
    case 'remove':
      origins.set(ptr, { range: entry.range, keyRange: entry.key.range });
      return REMOVE;
    case 'field':
      origins.set(ptr, { range: entry.value.range, keyRange: entry.key.range, ...(unitOf(entry.value) ? { unit: unitOf(entry.value)! } : {}) });
      return valueToJson(entry.value, path, origins, diagnostics);
    case 'section':
      origins.set(ptr, { range: entry.range, keyRange: entry.key.range });
      return bodyToJson(entry.body, path, origins, diagnostics);
    case 'block': {
      origins.set(ptr, { range: entry.range, keyRange: entry.key.range });
      origins.set(pointer([...path, 'kind']), { range: entry.kind.range, keyRange: entry.kind.range });
      const options = entry.body ? bodyToJson(entry.body, path, origins, diagnostics, new Set(['kind'])) : {};
      return { kind: entry.kind.name, ...options };
    }
  }
}

export function unitOf(v: ValueNode): UnitNode | undefined {
  return v.type === 'number' || v.type === 'list' ? v.unit : undefined;
}

export function valueToJson(v: ValueNode, path: (string | number)[], origins: Origins, diagnostics: Diagnostic[]): unknown {
  switch (v.type) {
    case 'number':
      if (!Number.isFinite(v.value)) {
        diagnostics.push(error(CODES.malformedNumber, `number ${v.text} is too large to represent`, v.range));
        return 0;
      }
      return v.value;
    case 'string':
    case 'ident':
    case 'bool':
      return v.value;
    case 'kind':
      origins.set(pointer([...path, 'kind']), { range: v.kind.range, keyRange: v.kind.range });
      return { kind: v.kind.name, ...bodyToJson(v.body, path.map(String), origins, diagnostics, new Set(['kind'])) };
    case 'list':
      return v.items.map((item, i) => {
        const itemPath = [...path, i];
        const unit = unitOf(item);
        origins.set(pointer(itemPath), { range: item.range, ...(unit ? { unit } : {}) });
        return valueToJson(item, itemPath, origins, diagnostics);
      });
  }
}
