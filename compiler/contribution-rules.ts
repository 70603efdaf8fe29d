/**
 * What each extension point needs of a contribution, checked once when its plugin registers (so
 * `distance: 42` or a missing `options` is a load error naming the plugin, its file, the point,
 * the id and the member, not a TypeError at step 1). One table keyed by extension point: adding
 * a point to the API without rules here is a type error.
 */
import type { ExtensionPoint } from './api.js';
import { optionsSchemaProblem } from './options-schema.js';
import { BLOCK_ROLES } from '../spec/types.js';

/**
 * Why `value` is not acceptable (a phrase such as "is 42, expected a function"), or undefined.
 * A problem inside a nested value starts with its path: ".unet.contract has ...".
 */
type Check = (value: unknown) => string | undefined;

/** `problem` of the value at `key` inside the checked one. */
const nested = (key: string, problem: string | undefined): string | undefined =>
  problem === undefined ? undefined : `.${key}${problem.startsWith('.') ? '' : ' '}${problem}`;

interface MemberRule {
  check: Check;
  optional?: boolean;
}

type PointRules = Readonly<Record<string, MemberRule>>;

const required = (check: Check): MemberRule => ({ check });
const optional = (check: Check): MemberRule => ({ check, optional: true });

/** A short description of a value for messages. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'function' ? 'a function' : 'an object';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const fn: Check = (v) => (typeof v === 'function' ? undefined : `is ${describeValue(v)}, expected a function`);
const text: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : `is ${describeValue(v)}, expected a non-empty string`);
const flag: Check = (v) => (typeof v === 'boolean' ? undefined : `is ${describeValue(v)}, expected true or false`);
const textList: Check = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string' && s) ? undefined : `is ${describeValue(v)}, expected a list of strings`);

const schema: Check = (v) => {
  if (!isObject(v)) return `is ${describeValue(v)}, expected a JSON Schema object (e.g. Type.Object({...}) or { type: 'object', properties: {...} })`;
  const problem = optionsSchemaProblem(v);
  return problem === undefined ? undefined : `is not a JSON Schema ajv accepts: ${problem}`;
};

const KNOWN_ROLES: readonly string[] = BLOCK_ROLES;
const unknownRole = (r: unknown) => `${describeValue(r)} is not a role (known: ${KNOWN_ROLES.join(', ')})`;

const roleList: Check = (v) => {
  if (!Array.isArray(v) || v.length === 0) return `is ${describeValue(v)}, expected a non-empty list of roles (${KNOWN_ROLES.join(', ')})`;
  const bad = v.find((r) => !KNOWN_ROLES.includes(r as string));
  return bad === undefined ? undefined : `has ${unknownRole(bad)}`;
};

const MEMBER_KINDS = ['function', 'number', 'integer', 'boolean', 'string', 'number[]', 'object'];

/** A role contract: `{ name, description, members: { member: kind } }`. */
const contract: Check = (v) => {
  if (!isObject(v)) return `is ${describeValue(v)}, expected a role contract ({ name, description, members })`;
  if (text(v.name)) return `has a name that ${text(v.name)}`;
  if (text(v.description)) return `has a description that ${text(v.description)}`;
  if (!isObject(v.members)) return `has members ${describeValue(v.members)}, expected an object of member kinds`;
  // A trailing '?' marks a member the block may leave out.
  const bad = Object.entries(v.members).find(([, kind]) => typeof kind !== 'string' || !MEMBER_KINDS.includes(kind.replace(/\?$/, '')));
  return bad ? `has member '${bad[0]}' of kind ${describeValue(bad[1])} (kinds: ${MEMBER_KINDS.join(', ')}, each optionally with '?')` : undefined;
};

/** An object keyed by role, each value checked by `each`. */
const byRole =
  (what: string, each: Check): Check =>
  (v) => {
    if (!isObject(v)) return `is ${describeValue(v)}, expected an object of ${what} by role`;
    for (const [role, value] of Object.entries(v)) {
      if (!KNOWN_ROLES.includes(role)) return `has ${unknownRole(role)}`;
      const problem = nested(role, each(value));
      if (problem) return problem;
    }
    return undefined;
  };

/** Blocks' `needs`: role -> contract. */
const contracts = byRole('role contracts', contract);

/** Architectures' `slots`: role -> { contract, optional? }, key order = build order. */
const slots = byRole('slots', (slot) => {
  if (!isObject(slot)) return `is ${describeValue(slot)}, expected { contract, optional? }`;
  return nested('contract', contract(slot.contract)) ?? (slot.optional === undefined ? undefined : nested('optional', flag(slot.optional)));
});

const COMMON: PointRules = {
  description: required(text),
  options: required(schema),
  check: optional(fn),
};

/** Every extension point's members: required unless marked optional. Exhaustive over ExtensionPoint. */
export const CONTRIBUTION_RULES: { readonly [P in ExtensionPoint]: PointRules } = {
  blocks: { ...COMMON, roles: required(roleList), needs: optional(contracts), family: optional(text), build: required(fn) },
  architectures: { ...COMMON, slots: required(slots), compose: required(fn) },
  losses: { ...COMMON, compute: required(fn) },
  klEstimators: { ...COMMON, families: optional(textList), compute: required(fn) },
  objectives: { ...COMMON, initialState: required(fn), combine: required(fn), nextState: optional(fn) },
  regularizers: { ...COMMON, compute: required(fn) },
  distances: { ...COMMON, distance: required(fn) },
  metrics: { ...COMMON, compute: required(fn), needsModes: optional(flag) },
  optimizers: { ...COMMON, create: required(fn), baseLearningRate: required(fn) },
  schedules: { ...COMMON, learningRate: required(fn) },
  dataSources: { ...COMMON, load: required(fn) },
};

/** What is wrong with one contribution at `point` ("'distance' is 42, expected a function"), or undefined. */
export function contributionProblem(point: ExtensionPoint, contribution: unknown): string | undefined {
  if (!isObject(contribution)) return `is ${describeValue(contribution)}, expected an object with ${Object.keys(CONTRIBUTION_RULES[point]).join(', ')}`;
  for (const [member, rule] of Object.entries(CONTRIBUTION_RULES[point])) {
    const value = contribution[member];
    if (value === undefined) {
      if (!rule.optional) return `has no '${member}'`;
      continue;
    }
    const problem = nested(member, rule.check(value));
    if (problem) {
      // ".slots.unet.contract has ..." -> "'slots.unet.contract' has ..."
      const space = problem.indexOf(' ');
      return `'${problem.slice(1, space)}'${problem.slice(space)}`;
    }
  }
  return undefined;
}
