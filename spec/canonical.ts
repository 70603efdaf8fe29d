/**
 * Canonical key order of a resolved spec: the order of the schema's `properties` (for a block:
 * `kind` first, then its kind's options in the order its plugin declares them), then any
 * other keys in source order. `punet print` output is therefore stable and independent of the
 * order fields were written in; it is not alphabetical, so it reads like the contract.
 */
import { branchFor } from './schema.js';

type Schema = Record<string, unknown>;

export function canonicalize(value: unknown, root: Schema): unknown {
  return order(value, root, root);
}

function order(value: unknown, schema: Schema | undefined, root: Schema): unknown {
  if (Array.isArray(value)) return value.map((v) => order(v, schema?.items as Schema | undefined, root));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  // The schema's own properties, then (for a block) those of its kind's branch.
  const props: Record<string, Schema> = { ...((schema?.properties as Record<string, Schema> | undefined) ?? {}) };
  Object.assign(props, (branchFor(root, schema, obj.kind)?.properties as Record<string, Schema> | undefined) ?? {});
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(props)) if (key in obj) out[key] = order(obj[key], props[key], root);
  for (const key of Object.keys(obj)) if (!(key in out)) out[key] = order(obj[key], undefined, root);
  return out;
}
