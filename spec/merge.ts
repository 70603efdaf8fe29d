/**
 * Deep merge of a spec layer over the spec it extends.
 *
 * Rules (docs/language.md, "Variants"):
 * - sections and blocks merge key by key, recursively;
 * - a block whose `kind` changes is replaced whole (the old kind's options do not apply to the new one);
 * - lists and scalar values replace the base value whole;
 * - `remove key` deletes the inherited key.
 * The origin map follows the values: a replaced subtree takes the overriding file's ranges.
 */
import { CODES, warning, type Diagnostic } from './diagnostics.js';
import { isUnder, pointer } from './pointer.js';
import { REMOVE, type JsonObject, type Layer, type Origins } from './to-json.js';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergeLayers(base: Layer, over: Layer, diagnostics: Diagnostic[]): Layer {
  const origins: Origins = new Map(base.origins);
  const value = mergeObject(base.value, over.value, [], origins, over.origins, diagnostics);
  return { value, origins };
}

/** Applies a layer that extends nothing: `remove` has nothing to act on. */
export function finishRootLayer(layer: Layer, diagnostics: Diagnostic[]): Layer {
  return mergeLayers({ value: {}, origins: new Map() }, layer, diagnostics);
}

function mergeObject(base: JsonObject, over: JsonObject, path: string[], origins: Origins, overOrigins: Origins, diagnostics: Diagnostic[]): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, v] of Object.entries(over)) {
    const childPath = [...path, key];
    const ptr = pointer(childPath);
    if (v === REMOVE) {
      if (!(key in out)) {
        const at = overOrigins.get(ptr);
        diagnostics.push(warning(CODES.removeNothing, `'remove ${key}' has no effect: no extended spec sets '${childPath.join('.')}'`, at?.range));
      }
      delete out[key];
      dropOrigins(origins, ptr);
      continue;
    }
    const old = out[key];
    if (isObject(old) && isObject(v) && !kindChanged(old, v)) {
      out[key] = mergeObject(old, v, childPath, origins, overOrigins, diagnostics);
      const own = overOrigins.get(ptr);
      if (own) origins.set(ptr, own);
    } else {
      dropOrigins(origins, ptr);
      for (const [p, o] of overOrigins) if (isUnder(p, ptr)) origins.set(p, o);
      out[key] = isObject(v) ? stripRemoves(v, childPath, overOrigins, diagnostics) : v;
    }
  }
  return out;
}

function kindChanged(a: JsonObject, b: JsonObject): boolean {
  return typeof b.kind === 'string' && typeof a.kind === 'string' && a.kind !== b.kind;
}

/** A new subtree (nothing under it in the base) may still contain `remove`: drop them with a warning. */
function stripRemoves(v: JsonObject, path: string[], overOrigins: Origins, diagnostics: Diagnostic[]): JsonObject {
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(v)) {
    const childPath = [...path, key];
    if (child === REMOVE) {
      const at = overOrigins.get(pointer(childPath));
      diagnostics.push(warning(CODES.removeNothing, `'remove ${key}' has no effect: no extended spec sets '${childPath.join('.')}'`, at?.range));
      continue;
    }
    out[key] = isObject(child) ? stripRemoves(child, childPath, overOrigins, diagnostics) : child;
  }
  return out;
}

function dropOrigins(origins: Origins, ptr: string): void {
  for (const p of [...origins.keys()]) if (isUnder(p, ptr)) origins.delete(p);
}
