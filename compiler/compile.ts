/**
 * compileModel: resolved spec + registry -> a trainable model. Every block is looked up by kind
 * in the registry and built through the same contribution API a third-party plugin uses (no kind
 * names are special here); the architecture contribution composes the roles.
 */
import * as tf from '@tensorflow/tfjs';
import type { Block, BlockRole, LayerInfo, ProbabilisticSegmenter, ResolvedSpec, RoleContract, RoleContracts, Tf, Variable } from './api.js';
import { contractViolations, slotOrder } from './contracts.js';
import type { Registry } from './registry.js';
import { BlockOptionError, CompileError, joinPath } from './errors.js';
import { resolveEntry } from './options.js';
import { SeededParamFactory, type VariableRecord } from './params.js';
import { specHash } from './provenance.js';
import { registerCpuKernelFixes } from '../runtime/backends/cpu-fixes.js';
import { PluginContributionError } from './plugin-loader.js';

export interface CompiledBlock {
  role: BlockRole;
  kind: string;
  plugin: string;
  /** Validated options, defaults applied. */
  options: Record<string, unknown>;
  parameters: number;
  /** Per-image output shapes (no batch axis), when the block reports them. */
  outputShapes: Record<string, number[]>;
  /** Per-layer facts, when the block reports them (built-ins do). */
  layers?: LayerInfo[];
}

export interface CompiledModel {
  spec: ResolvedSpec;
  /** sha256 of the canonical JSON of `spec` (store it with checkpoints). */
  specHash: string;
  seed: number;
  segmenter: ProbabilisticSegmenter;
  /** The built blocks by role (the surfaces the architecture drives). */
  blocks: Partial<Record<BlockRole, Block>>;
  /** Per block, in build order. */
  summary: CompiledBlock[];
  /** Every variable by path name (`unet/encoder/level0/conv1/kernel`). */
  variables: Map<string, Variable>;
  /** Names of the variables marked for weight decay (conv kernels). */
  regularized: Set<string>;
  parameterCount: number;
  trainableVariables(): Variable[];
  regularizedWeights(): Variable[];
  /** Frees every variable. */
  dispose(): void;
}

export interface CompileModelOptions {
  /** Seed of the initial weights; defaults to spec.train.seed. */
  seed?: number;
  /** The tfjs namespace to build with (default: the one this module imports). */
  tf?: Tf;
  /** Zero weights instead of seeded draws: `punet check` builds every block this way to find what only building finds. */
  dry?: boolean;
}

/**
 * Builds the architecture's slots in their declared order. Each block gets the blocks it
 * `needs` (built before it, checked against the contracts it names) and is itself checked
 * against its slot's contract, so a block that cannot fill a role is reported at that role.
 */
export function compileModel(spec: ResolvedSpec, registry: Registry, opts: CompileModelOptions = {}): CompiledModel {
  const tfns = opts.tf ?? tf;
  registerCpuKernelFixes();
  const seed = opts.seed ?? spec.train?.seed ?? 0;
  checkInput(spec);
  const arch = resolveEntry(registry, 'architectures', spec.architecture, 'architecture', spec);
  const archId = arch.registered.id;
  const { order, required } = slotOrder(arch.contribution);

  const store = new Map<string, VariableRecord>();
  const factory = new SeededParamFactory(tfns, seed, store, '', opts.dry);
  const blocks: Partial<Record<BlockRole, Block>> = {};
  const kinds: Partial<Record<BlockRole, string>> = {};
  const summary: CompiledBlock[] = [];
  try {
    for (const role of order) {
      const entry = spec[role];
      if (!entry) {
        if (required.includes(role)) throw new CompileError(role, `architecture '${archId}' needs a '${role}' block`);
        continue;
      }
      const resolved = resolveEntry(registry, 'blocks', entry, role, spec);
      const { contribution, registered } = resolved;
      const kind = registered.id;
      const plugin = registered.plugin.name;
      if (!contribution.roles.includes(role)) {
        throw new CompileError(joinPath(role, 'kind'), `block kind '${kind}' cannot be a ${role} (it can be: ${contribution.roles.join(', ')})`, plugin);
      }
      const needed = neededBlocks(role, kind, plugin, contribution.needs ?? {}, blocks, kinds, order, archId);
      const before = store.size;
      const block = atPath(role, plugin, kind, () =>
        contribution.build({ tf: tfns, options: resolved.options, input: spec.input, params: factory.scope(role), role, blocks: needed }),
      );
      const contract = arch.contribution.slots[role]!.contract;
      const violations = contractViolations(block, contract);
      if (violations.length) {
        throw new CompileError(
          role,
          `block kind '${kind}' (plugin '${plugin}') cannot fill role '${role}' of architecture '${archId}' (contract '${contract.name}': ${contract.description}): it ${violations.join('; ')}`,
          plugin,
        );
      }
      blocks[role] = block;
      kinds[role] = kind;
      const created = [...store.values()].slice(before);
      const described = block as { outputShapes?: Record<string, number[]>; layers?: LayerInfo[] };
      summary.push({
        role,
        kind,
        plugin,
        options: resolved.options,
        parameters: created.reduce((n, r) => n + r.variable.size, 0),
        outputShapes: described.outputShapes ?? {},
        layers: described.layers,
      });
    }
    const segmenter = atPath('architecture', arch.registered.plugin.name, archId, () =>
      arch.contribution.compose({ tf: tfns, options: arch.options, input: spec.input, params: factory.scope('architecture'), blocks }),
    );
    return assemble(spec, seed, segmenter, blocks, summary, store);
  } catch (err) {
    for (const r of store.values()) r.variable.dispose();
    throw err;
  }
}

/** The blocks `role`'s kind declared in `needs`, each built already and satisfying the contract named there. */
function neededBlocks(
  role: BlockRole,
  kind: string,
  plugin: string,
  needs: RoleContracts,
  built: Partial<Record<BlockRole, Block>>,
  kinds: Partial<Record<BlockRole, string>>,
  order: BlockRole[],
  archId: string,
): Partial<Record<BlockRole, Block>> {
  const out: Partial<Record<BlockRole, Block>> = {};
  for (const [other, contract] of Object.entries(needs) as Array<[BlockRole, RoleContract<unknown>]>) {
    const block = built[other];
    if (!block) {
      const why = !order.includes(other)
        ? `architecture '${archId}' has no '${other}' role`
        : order.indexOf(other) > order.indexOf(role)
          ? `architecture '${archId}' builds '${other}' after '${role}'`
          : `the spec has no '${other}' block`;
      throw new CompileError(role, `block kind '${kind}' needs the '${other}' block (${contract.name}) while it builds, but ${why}`, plugin);
    }
    const violations = contractViolations(block, contract);
    if (violations.length) {
      throw new CompileError(
        role,
        `block kind '${kind}' reads the '${other}' block as '${contract.name}' (${contract.description}), but '${kinds[other]}' ${violations.join('; ')}`,
        plugin,
      );
    }
    out[other] = block;
  }
  return out;
}

function assemble(
  spec: ResolvedSpec,
  seed: number,
  segmenter: ProbabilisticSegmenter,
  blocks: Partial<Record<BlockRole, Block>>,
  summary: CompiledBlock[],
  store: Map<string, VariableRecord>,
): CompiledModel {
  const variables = new Map([...store].map(([name, r]) => [name, r.variable]));
  const regularized = new Set([...store.values()].filter((r) => r.regularize).map((r) => r.name));
  let disposed = false;
  return {
    spec,
    specHash: specHash(spec),
    seed,
    segmenter,
    blocks,
    summary,
    variables,
    regularized,
    parameterCount: [...variables.values()].reduce((n, v) => n + v.size, 0),
    trainableVariables: () => [...variables.values()],
    regularizedWeights: () => [...regularized].map((name) => variables.get(name)!),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const v of variables.values()) v.dispose();
    },
  };
}

/** Runs a contribution's build/compose; its option errors become CompileErrors at `path`. */
function atPath<T>(path: string, plugin: string, kind: string, fn: () => T): T {
  try {
    return fn();
  } catch (thrown) {
    // A third-party contribution's errors arrive attributed already; report them at the block.
    const err = thrown instanceof PluginContributionError ? thrown.original : thrown;
    if (err instanceof CompileError) throw err;
    if (err instanceof BlockOptionError) throw new CompileError(joinPath(path, err.option), err.message, plugin);
    const wrapped = new CompileError(path, `'${kind}' (plugin '${plugin}') failed to build: ${(err as Error)?.message ?? err}`, plugin);
    (wrapped as { cause?: unknown }).cause = err;
    throw wrapped;
  }
}

function checkInput(spec: ResolvedSpec): void {
  const input = spec.input;
  const [h, w] = input?.size ?? [];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h! < 1 || w! < 1) {
    throw new CompileError('input.size', `must be [height, width] in pixels, got ${JSON.stringify(input?.size)}`);
  }
  if (!Number.isInteger(input.channels) || input.channels < 1) throw new CompileError('input.channels', 'must be a positive integer');
  if (!Number.isInteger(input.classes) || input.classes < 2) throw new CompileError('input.classes', 'must be an integer >= 2 (background counts)');
}
