/** `punet check FILE...`: validates specs; exit 0 valid, 1 errors, 2 usage. */
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { hasErrors, toJsonDiagnostic } from '../../../spec/index.js';
import { CODES } from '../../../spec/diagnostics.js';
import { dirname } from 'node:path';
import { estimateResources, memoryLimit, overBudget } from '../../../spec/budget.js';
import { commandRegistry, printDiagnostics, readSpec } from '../../../spec/frontend-cli.js';

export const summary = 'validate .punet specs (syntax, schema, semantic checks)';

const HELP = `usage: punet check [--json] [--plugin MODULE]... [--set PATH=VALUE]... FILE...

Checks each spec (and the specs it extends) and prints every error and warning with
file:line:col, the source line and a caret. Exit code 0 = all valid (warnings allowed),
1 = errors, 2 = usage error.

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
