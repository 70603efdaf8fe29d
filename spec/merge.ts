/**
 * Deep merge of a spec layer over the spec it extends.
 *
 * Rules (docs/language.md, "Variants"):
 * - sections and blocks merge key by key, recursively;
 * - a block whose `kind` changes is replaced whole (the old kind's options do not apply to the new one);
 * - lists and scalar values replace the base value whole;
 * - `remove key` deletes the inherited key.
 * The origin map follows the values: whatever the overriding file writes takes its ranges, and
 * base ranges under a replaced or removed subtree are dropped.
 */
import { CODES, warning, type Diagnostic } from './diagnostics.js';
import { parentOf, pointer } from './pointer.js';
import { REMOVE, type JsonObject, type Layer, type Origins } from './to-json.js';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

interface MergeState {
  overOrigins: Origins;
  diagnostics: Diagnostic[];
  /** Base subtrees that were replaced or removed: their origins go. */
  dropped: Set<string>;
  /** Pointers of `remove` entries: not values, so their origins are not copied. */
  removals: Set<string>;
}

export function mergeLayers(base: Layer, over: Layer, diagnostics: Diagnostic[]): Layer {
  const state: MergeState = { overOrigins: over.origins, diagnostics, dropped: new Set(), removals: new Set() };
  const value = mergeObject(base.value, over.value, [], state);
  const origins: Origins = new Map();
  for (const [p, o] of base.origins) if (!underAny(p, state.dropped)) origins.set(p, o);
  for (const [p, o] of over.origins) if (!state.removals.has(p)) origins.set(p, o);
  return { value, origins };
}

/** Applies a layer that extends nothing: `remove` has nothing to act on. */
export function finishRootLayer(layer: Layer, diagnostics: Diagnostic[]): Layer {
  return mergeLayers({ value: {}, origins: new Map() }, layer, diagnostics);
}

/** Is `ptr` equal to or below one of `prefixes`? Walks up the pointer: O(depth). */
function underAny(ptr: string, prefixes: Set<string>): boolean {
  if (!prefixes.size) return false;
  for (let p = ptr; ; p = parentOf(p)) {
    if (prefixes.has(p)) return true;
    if (p === '') return false;
  }
}

function mergeObject(base: JsonObject, over: JsonObject, path: string[], state: MergeState): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, v] of Object.entries(over)) {
    const childPath = [...path, key];
    const ptr = pointer(childPath);
    const old = out[key];
    if (v === REMOVE) {
      state.removals.add(ptr);
      if (old === undefined) removeNothing(childPath, state);
      delete out[key];
      state.dropped.add(ptr);
    } else if (isObject(old) && isObject(v) && !kindChanged(old, v)) {
      out[key] = mergeObject(old, v, childPath, state);
    } else {
      if (old !== undefined) state.dropped.add(ptr);
      out[key] = isObject(v) ? mergeObject({}, v, childPath, state) : v;
    }
  }
  return out;
}

function kindChanged(a: JsonObject, b: JsonObject): boolean {
  return typeof b.kind === 'string' && typeof a.kind === 'string' && a.kind !== b.kind;
}

function removeNothing(path: string[], state: MergeState): void {
  const at = state.overOrigins.get(pointer(path));
  state.diagnostics.push(warning(CODES.removeNothing, `'remove ${path.at(-1)}' has no effect: no extended spec sets '${path.join('.')}'`, at?.range));
}
