/**
 * Checkpoint provenance: a saved model carries its resolved spec and `specHash(spec)`, so any
 * checkpoint can be traced to the spec that made it.
 */
import { createHash } from 'node:crypto';
import type { ResolvedSpec } from './api.js';

/** JSON with object keys sorted at every level (arrays keep their order): one text per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256 (hex) of the spec's canonical JSON. */
export function specHash(spec: ResolvedSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** The metadata block a checkpoint stores. */
export interface SpecProvenance {
  specHash: string;
  spec: ResolvedSpec;
}

export function specProvenance(spec: ResolvedSpec): SpecProvenance {
  return { specHash: specHash(spec), spec };
}
