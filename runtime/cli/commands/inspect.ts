/**
 * `punet inspect SPEC [--json]`: compiles the spec (weights initialised, nothing run) and prints
 * per block its parameter count and per-image output shapes, the total, and analytical FLOPs.
 * SPEC is a .punet file or a resolved-spec JSON (what `punet print` emits).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import type { Registry } from '../../../compiler/registry.js';

export const summary = 'per-block parameter counts, output shapes and FLOPs of a compiled spec';

const HELP = `usage: punet inspect SPEC [--json] [--plugin MODULE]... [--set PATH=VALUE]...

Compiles SPEC (a .punet file, or a resolved-spec .json as printed by 'punet print') and shows,
per block, its parameter count and output shapes (B = batch), the total, and the analytical
FLOPs per image.

options:
  --json            machine-readable output
  --seed N          weight seed (default: the spec's train.seed; counts do not depend on it)
  --set PATH=VALUE  override one value of a .punet spec (repeatable), e.g. --set latent.size=2
${pluginHelp(20)}
  -h, --help        this text`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('inspect', argv, { json: { type: 'boolean' }, seed: { type: 'string' }, set: { type: 'string', multiple: true }, ...PLUGIN_FLAG }, HELP);
  if (!args) return EXIT.ok;
  const file = args.positionals[0];
  if (!file || args.positionals.length > 1) throw new UserError(`inspect: expected one SPEC file\n\n${HELP}`, EXIT.usage);
  const seed = args.values.seed === undefined ? undefined : Number(args.values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UserError(`inspect: --seed must be an integer, got '${args.values.seed}'`, EXIT.usage);

  const overrides = args.values.set ?? [];
  if (overrides.length && file.endsWith('.json')) throw new UserError('inspect: --set applies to .punet specs, not to a resolved .json', EXIT.usage);
  const { commandRegistry } = await import('../../../spec/frontend-cli.js');
  const registry = await commandRegistry(pluginFlags(args.values));
  const spec = file.endsWith('.json') ? await readResolvedJson(file, registry) : await loadPunet(file, registry, overrides);

  // Compiling allocates every weight: refuse sizes that cannot fit first (spec/budget.ts).
  const { checkBudget, estimateResources, memoryLimit } = await import('../../../spec/budget.js');
  checkBudget(estimateResources(spec, path.dirname(file)), memoryLimit());
  // Heavy imports only now: tfjs loads with the compiler.
  const { compileModel } = await import('../../../compiler/compile.js');
  const { CompileError } = await import('../../../compiler/errors.js');
  await (await import('../../backends/select.js')).useCpuForBuilding();
  let model;
  try {
    model = compileModel(spec, registry, { seed });
  } catch (err) {
    if (err instanceof CompileError) throw new UserError(await describeCompileError(err, file));
    throw err;
  }
  try {
    const report = await buildReport(file, spec, model);
    process.stdout.write(args.values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}

/** A resolved spec (`punet print` output); its `use` modules (absolute paths or package names) load from its folder. */
async function readResolvedJson(file: string, registry: Registry): Promise<ResolvedSpec> {
  const spec = parseResolvedJson(file);
  if (Array.isArray(spec.use) && spec.use.length) {
    const { loadPlugins } = await import('../../../compiler/plugin-loader.js');
    await loadPlugins(spec.use.map((specifier) => ({ specifier, fromDir: path.dirname(path.resolve(file)) })), registry);
  }
  return spec;
}

function parseResolvedJson(file: string): ResolvedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`inspect: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as ResolvedSpec;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message}); give a .punet file or the output of 'punet print'`);
  }
}

async function loadPunet(file: string, registry: Registry, overrides: string[]): Promise<ResolvedSpec> {
  const { formatDiagnostics, hasErrors } = await import('../../../spec/index.js');
  const { readSpec } = await import('../../../spec/frontend-cli.js');
  const result = await readSpec(file, registry, overrides);
  if (!result.spec || hasErrors(result.diagnostics)) {
    throw new UserError(formatDiagnostics(result.diagnostics, { sources: result.sources }));
  }
  return result.spec;
}

async function describeCompileError(err: InstanceType<typeof import('../../../compiler/errors.js').CompileError>, file: string): Promise<string> {
  if (file.endsWith('.json')) return `${file}: ${err.message}`;
  const { compileErrorDiagnostic } = await import('../../../compiler/locate.js');
  const { formatDiagnostic } = await import('../../../spec/index.js');
  const { diagnostic, sources } = compileErrorDiagnostic(err, file);
  return formatDiagnostic(diagnostic, { sources });
}

/** The cpu backend prints a "use tfjs-node" banner on first use; inspect runs nothing heavy. */
interface InspectReport {
  model: string;
  spec: string;
  specHash: string;
  input: ResolvedSpec['input'];
  blocks: Array<{
    role: string;
    kind: string;
    plugin: string;
    parameters: number;
    outputShapes: Record<string, Array<number | 'B'>>;
    flopsPerImage?: number;
  }>;
  totalParameters: number;
  flopsPerImage: { trainForward: number; trainStep: number; prepare: number; perSample: number; complete: boolean };
}

async function buildReport(
  file: string,
  spec: ResolvedSpec,
  model: import('../../../compiler/compile.js').CompiledModel,
): Promise<InspectReport> {
  const { countFlops } = await import('../../../compiler/flops.js');
  const flops = countFlops(model.summary);
  return {
    model: spec.model,
    spec: file,
    specHash: model.specHash,
    input: spec.input,
    blocks: [...model.summary].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role)).map((b) => ({
      role: b.role,
      kind: b.kind,
      plugin: b.plugin,
      parameters: b.parameters,
      outputShapes: Object.fromEntries(Object.entries(b.outputShapes).map(([k, s]) => [k, ['B' as const, ...s]])),
      ...(flops.perBlock[b.role] !== undefined ? { flopsPerImage: flops.perBlock[b.role] } : {}),
    })),
    totalParameters: model.parameterCount,
    flopsPerImage: {
      trainForward: flops.trainForward,
      trainStep: flops.trainStep,
      prepare: flops.prepare,
      perSample: flops.perSample,
      complete: flops.complete,
    },
  };
}

/** Display order: as a spec lists them (build order may differ). */
const ROLE_ORDER = ['unet', 'prior', 'posterior', 'latent', 'combiner'];

const num = (n: number) => n.toLocaleString('en-US');
const gflops = (n: number) => `${(n / 1e9).toFixed(2)} GFLOP`;
const shape = (s: Array<number | 'B'>) => `[${s.join(', ')}]`;

function formatReport(r: InspectReport): string {
  const lines = [`model '${r.model}' (${r.spec}, spec sha256 ${r.specHash.slice(0, 12)})`, `input ${r.input.size.join('x')}, ${r.input.channels} channel(s), ${r.input.classes} classes`, ''];
  const roleW = Math.max(5, ...r.blocks.map((b) => b.role.length));
  const kindW = Math.max(4, ...r.blocks.map((b) => b.kind.length));
  const paramW = Math.max(10, num(r.totalParameters).length);
  lines.push(`${'block'.padEnd(roleW)}  ${'kind'.padEnd(kindW)}  ${'parameters'.padStart(paramW)}  output shapes`);
  for (const b of r.blocks) {
    const shapes = Object.entries(b.outputShapes);
    const first = shapes[0] ? `${shapes[0][0]} ${shape(shapes[0][1])}` : '-';
    lines.push(`${b.role.padEnd(roleW)}  ${b.kind.padEnd(kindW)}  ${num(b.parameters).padStart(paramW)}  ${first}`);
    for (const [name, s] of shapes.slice(1)) lines.push(`${' '.repeat(roleW + kindW + paramW + 6)}${name} ${shape(s)}`);
  }
  lines.push(`${'total'.padEnd(roleW + kindW + 2)}  ${num(r.totalParameters).padStart(paramW)}`);
  const f = r.flopsPerImage;
  const unreported = r.blocks.filter((b) => b.flopsPerImage === undefined).map((b) => `${b.role} (${b.kind})`);
  lines.push('');
  if (f.complete) {
    lines.push(
      `FLOPs per image: training forward ${gflops(f.trainForward)}, training step ~${gflops(f.trainStep)} (3x forward); ` +
        `sampling ${gflops(f.prepare)} once + ${gflops(f.perSample)} per sample`,
    );
  } else {
    lines.push(`FLOPs per image: not counted (${unreported.join(', ')} report no layers)`);
  }
  return lines.join('\n');
}
