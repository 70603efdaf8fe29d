/**
 * Where the language expects a kind-discriminated block, and which registry extension point
 * supplies its kinds. One table drives schema building, error messages and the docs.
 */
import type { ExtensionPoint } from '../compiler/api.js';
import { BLOCK_ROLES, type BlockRole } from './types.js';
import { pointer } from './pointer.js';

export interface KindSlot {
  /** JSON path of the block, e.g. ['loss', 'kl']. */
  path: string[];
  point: ExtensionPoint;
  /** For `blocks`: the role the block fills (kinds must list it in their `roles`). */
  role?: BlockRole;
  /** How the thing is called in messages: "block", "loss", "optimizer", ... */
  what: string;
  /** Kind used when the block is left out (only if a plugin provides it). */
  defaultKind?: string;
}

export const KIND_SLOTS: readonly KindSlot[] = [
  { path: ['architecture'], point: 'architectures', what: 'architecture' },
  ...BLOCK_ROLES.map((role): KindSlot => ({ path: [role], point: 'blocks', role, what: 'block' })),
  { path: ['loss', 'reconstruction'], point: 'losses', what: 'reconstruction loss' },
  { path: ['loss', 'kl'], point: 'klEstimators', what: 'KL estimator', defaultKind: 'analytic' },
  { path: ['loss', 'objective'], point: 'objectives', what: 'objective', defaultKind: 'weighted' },
  { path: ['loss', 'regularization'], point: 'regularizers', what: 'regularizer', defaultKind: 'none' },
  { path: ['eval', 'distance'], point: 'distances', what: 'distance', defaultKind: 'iou' },
  { path: ['train', 'optimizer'], point: 'optimizers', what: 'optimizer' },
  { path: ['train', 'schedule'], point: 'schedules', what: 'schedule', defaultKind: 'constant' },
  { path: ['train', 'data'], point: 'dataSources', what: 'data source', defaultKind: 'synthetic' },
];

/** `eval.metrics` entries: a list, each a plain id (`ged`) or `kind { options }`. */
export const METRIC_SLOT: KindSlot = { path: ['eval', 'metrics'], point: 'metrics', what: 'metric' };

const byPointer = new Map(KIND_SLOTS.map((s) => [pointer(s.path), s]));

/** The slot whose block lives at `ptr` (e.g. `/loss/kl`, `/eval/metrics/2`), if any. */
export function slotAt(ptr: string): KindSlot | undefined {
  return byPointer.get(ptr) ?? (/^\/eval\/metrics\/\d+$/.test(ptr) ? METRIC_SLOT : undefined);
}
