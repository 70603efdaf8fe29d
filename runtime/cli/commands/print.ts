/** `punet print FILE`: the fully resolved spec (extends merged, defaults applied) as JSON. */
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { commandRegistry, printDiagnostics, readSpec } from '../../../spec/frontend-cli.js';

export const summary = 'print the resolved spec (after extends and defaults) as JSON';

const HELP = `usage: punet print [--plugin MODULE]... [--set PATH=VALUE]... FILE

Prints the resolved spec as JSON: extends merged, every default filled in, keys in the
canonical order (the order of the schema: model, use, input, architecture, blocks, loss,
eval, train; inside a block, kind then its options as the plugin declares them).
Warnings go to stderr; on errors nothing is printed on stdout and the exit code is 1.

options:
  --set PATH=VALUE  override one value (repeatable), e.g. --set latent.size=2
${pluginHelp(20)}
  -h, --help        this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('print', argv, { ...PLUGIN_FLAG, set: { type: 'string', multiple: true } }, HELP);
  if (!args) return EXIT.ok;
  if (args.positionals.length !== 1) throw new UserError(`print: give exactly one spec file\n\n${HELP}`, EXIT.usage);
  const registry = await commandRegistry(pluginFlags(args.values));
  const result = await readSpec(args.positionals[0]!, registry, args.values.set ?? []);
  printDiagnostics(result.diagnostics, result.sources);
  if (!result.spec) return EXIT.failure;
  process.stdout.write(JSON.stringify(result.spec, null, 2) + '\n');
  return EXIT.ok;
}
