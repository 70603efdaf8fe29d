/**
 * Units written after values (`240k steps`, `128x128 px`) are checked against the field: a
 * field accepts a unit if its schema says so (`"unit": "steps"` on the property, the language's
 * own fields and any plugin option), or, for plugin options without the annotation, by name:
 * `boundaries`, `*_steps` and `*_every` count steps. The unit never changes the value.
 */
import type { Registry } from '../compiler/registry.js';
import { CODES, error, type Diagnostic } from './diagnostics.js';
import { dotted, segmentsOf } from './pointer.js';
import { branchFor, compiledSchema } from './schema.js';
import type { JsonObject, Origins } from './to-json.js';

type Schema = Record<string, unknown>;

const UNIT_MEANING: Record<string, string> = { px: 'pixels', steps: 'training steps', validations: 'validations' };

export function checkUnits(value: JsonObject, origins: Origins, registry: Registry): Diagnostic[] {
  const { schema } = compiledSchema(registry);
  const out: Diagnostic[] = [];
  for (const [ptr, origin] of origins) {
    if (!origin.unit) continue;
    const segs = segmentsOf(ptr);
    const expected = unitOfField(schema, value, segs);
    const unit = origin.unit.name;
    if (expected === unit) continue;
    const field = `'${dotted(ptr)}'`;
    const message = expected
      ? `unit '${unit}' (${UNIT_MEANING[unit]}) does not fit ${field}, which counts ${UNIT_MEANING[expected]}: write '${expected}' or no unit`
      : `${field} takes no unit: remove '${unit}'`;
    out.push(error(CODES.unitMismatch, message, origin.unit.range));
  }
  return out;
}

function unitOfField(root: Schema, value: unknown, segs: string[]): string | undefined {
  let node: Schema | undefined = root;
  let v: unknown = value;
  for (const seg of segs) {
    if (!node) break;
    node = child(root, node, v, seg);
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  }
  if (node && typeof node.unit === 'string') return node.unit;
  // Plugin options without a `unit` annotation: infer from the option's name.
  const key = [...segs].reverse().find((s) => !/^\d+$/.test(s)) ?? '';
  if (segs.length > 1 && (key === 'boundaries' || key.endsWith('_steps') || key.endsWith('_every'))) return 'steps';
  return undefined;
}

/** The subschema for `seg` under `node`, following the if/then branch of the value's kind. */
function child(root: Schema, node: Schema, value: unknown, seg: string): Schema | undefined {
  if (Array.isArray(value) && /^\d+$/.test(seg)) return node.items as Schema | undefined;
  const props = node.properties as Record<string, Schema> | undefined;
  if (props?.[seg] && seg !== 'kind') {
    // A kind slot's own properties only list `kind`; its options live in the matching branch.
    return props[seg];
  }
  const kind = value && typeof value === 'object' ? (value as JsonObject).kind : undefined;
  return (branchFor(root, node, kind)?.properties as Record<string, Schema> | undefined)?.[seg];
}
