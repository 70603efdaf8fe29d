/**
 * Role contracts at run time: whether a built block holds what a contract lists, and the order
 * an architecture's slots are built in. No TensorFlow.js import: plugin tests can use it as is.
 */
import type { ArchitectureContribution, BlockRole, MemberKind, MemberSpec, RoleContract } from './api.js';

/** Why `value` is not of `kind`, or undefined when it is. */
function kindProblem(value: unknown, kind: MemberKind): string | undefined {
  const got = value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
  const ok =
    kind === 'function' ? typeof value === 'function'
    : kind === 'number' ? typeof value === 'number' && Number.isFinite(value)
    : kind === 'integer' ? Number.isInteger(value)
    : kind === 'boolean' ? typeof value === 'boolean'
    : kind === 'string' ? typeof value === 'string'
    : kind === 'number[]' ? Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v))
    : typeof value === 'object' && value !== null;
  if (ok) return undefined;
  if (got === 'number') return String(value);
  return got === 'null' ? 'null' : /^[aeiou]/.test(got) ? `an ${got}` : `a ${got}`;
}

/**
 * Every way `block` falls short of `contract`, one line each ("lacks 'headChannels' (integer)",
 * "'eventShape' is a string, must be number[]"). Empty when it satisfies the contract.
 */
export function contractViolations(block: unknown, contract: RoleContract<unknown>): string[] {
  if (typeof block !== 'object' || block === null) return [`it built ${block === null ? 'null' : typeof block}, not an object`];
  const out: string[] = [];
  for (const [member, spec] of Object.entries(contract.members) as Array<[string, MemberSpec]>) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as MemberKind;
    const value = (block as Record<string, unknown>)[member];
    if (value === undefined) {
      if (!optional) out.push(`lacks '${member}' (${kind})`);
      continue;
    }
    const problem = kindProblem(value, kind);
    if (problem) out.push(`'${member}' is ${problem}, must be ${kind}`);
  }
  return out;
}

export interface SlotOrder {
  /** Roles in build order. */
  order: BlockRole[];
  required: BlockRole[];
  optional: BlockRole[];
}

/** The roles of an architecture in build order (its `slots` key order), split by requiredness. */
export function slotOrder(architecture: Pick<ArchitectureContribution, 'slots'>): SlotOrder {
  const order = Object.keys(architecture.slots) as BlockRole[];
  const optional = order.filter((role) => architecture.slots[role]?.optional);
  return { order, optional, required: order.filter((role) => !optional.includes(role)) };
}
