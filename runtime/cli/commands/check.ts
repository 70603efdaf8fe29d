/** `punet check FILE...`: validates specs; exit 0 valid, 1 errors, 2 usage. */
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { hasErrors, toJsonDiagnostic, type Diagnostic } from '../../../spec/index.js';
import type { Registry } from '../../../compiler/registry.js';
import type { ResolvedSpec } from '../../../spec/types.js';
import { CODES } from '../../../spec/diagnostics.js';
import { dirname } from 'node:path';
import { estimateResources, memoryLimit, overBudget } from '../../../spec/budget.js';
import { commandRegistry, printDiagnostics, readSpec } from '../../../spec/frontend-cli.js';

export const summary = 'validate .punet specs (syntax, schema, semantic checks, then a dry compile)';

const HELP = `usage: punet check [--json] [--plugin MODULE]... [--set PATH=VALUE]... FILE...

Checks each spec (and the specs it extends) and prints every error and warning with
file:line:col, the source line and a caret. A spec that passes these checks is then compiled
as compile-and-train would (model and training, weights left at zero, on the cpu backend), so
a spec that passes check compiles (E601: an error the compiler found). Exit code 0 = all
valid (warnings allowed), 1 = errors, 2 = usage error.

options:
  --json            machine-readable output on stdout: { files: [{ file, ok, diagnostics }], errors, warnings }
${pluginHelp(20)}
  --memory-limit S  refuse specs whose estimated memory (parameters, one training step's
                    activations, dataset) exceeds S, e.g. 8G (default: PUNET_MEMORY_LIMIT,
                    else half of this machine's memory)
  --set PATH=VALUE  override one value of the spec (repeatable), e.g. --set train.optimizer.lr=1e-3
  -h, --help        this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('check', argv, { json: { type: 'boolean' }, ...PLUGIN_FLAG, 'memory-limit': { type: 'string' }, set: { type: 'string', multiple: true } }, HELP);
  if (!args) return EXIT.ok;
  const files = args.positionals;
  if (!files.length) throw new UserError(`check: no spec file given\n\n${HELP}`, EXIT.usage);
  const limit = memoryLimit(args.values['memory-limit'] as string | undefined);
  const registry = await commandRegistry(pluginFlags(args.values));

  const report = [];
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    const result = await readSpec(file, registry, args.values.set ?? []);
    const budget = result.spec && overBudget(estimateResources(result.spec, dirname(file)), limit);
    if (budget) result.diagnostics.push({ severity: 'error', code: CODES.resourceBudget, message: budget, file });
    if (result.spec && !hasErrors(result.diagnostics)) {
      const found = await compileDiagnostic(result.spec, registry, file);
      if (found) {
        result.diagnostics.push(found.diagnostic);
        for (const [f, text] of found.sources) if (!result.sources.has(f)) result.sources.set(f, text);
      }
    }
    const failed = hasErrors(result.diagnostics);
    errors += result.diagnostics.filter((d) => d.severity === 'error').length;
    warnings += result.diagnostics.filter((d) => d.severity === 'warning').length;
    if (args.values.json) {
      report.push({ file, ok: !failed, diagnostics: result.diagnostics.map((d) => toJsonDiagnostic(d)) });
    } else {
      printDiagnostics(result.diagnostics, result.sources);
      if (!failed) process.stdout.write(`${file}: ok${result.diagnostics.length ? ` (${result.diagnostics.length} warning${result.diagnostics.length > 1 ? 's' : ''})` : ''}\n`);
    }
  }
  if (args.values.json) {
    process.stdout.write(JSON.stringify({ files: report, errors, warnings }, null, 2) + '\n');
  } else if (errors) {
    process.stderr.write(`\n${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}\n`);
  }
  return errors ? EXIT.failure : EXIT.ok;
}

/**
 * Compiles a spec that passed the front end exactly as compile-and-train does (the model with
 * zero weights, nothing random; the training side), so rules only the compiler and the plugins'
 * builders can see (contracts, shapes, KL families) are reported by check too. Frees everything.
 */
async function compileDiagnostic(spec: ResolvedSpec, registry: Registry, file: string): Promise<{ diagnostic: Diagnostic; sources: Map<string, string> } | undefined> {
  const [{ useCpuForBuilding }, { compileModel }, { compileTraining }, { CompileError }, { compileErrorDiagnostic }] = await Promise.all([
    import('../../backends/select.js'),
    import('../../../compiler/compile.js'),
    import('../../../compiler/training.js'),
    import('../../../compiler/errors.js'),
    import('../../../compiler/locate.js'),
  ]);
  await useCpuForBuilding();
  let model: { dispose(): void } | undefined;
  try {
    model = compileModel(spec, registry, { dry: true });
    compileTraining(spec, registry);
  } catch (err) {
    if (err instanceof CompileError) return compileErrorDiagnostic(err, file);
    throw err;
  } finally {
    model?.dispose();
  }
  return undefined;
}
