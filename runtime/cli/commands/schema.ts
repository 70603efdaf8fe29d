/** `punet schema`: the JSON Schema of resolved specs, built from the registered plugins. */
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT } from '../errors.js';
import { buildSchema } from '../../../spec/index.js';
import { commandRegistry } from '../../../spec/frontend-cli.js';

export const summary = 'print the JSON Schema of resolved specs (for editors and tools)';

const HELP = `usage: punet schema [--plugin MODULE]...

Prints the JSON Schema (draft-07) that resolved specs (the output of 'punet print') satisfy.
It is built from the registered plugins: every block kind, loss, optimiser, ... with its options.

options:
${pluginHelp(20)}
  -h, --help        this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('schema', argv, { ...PLUGIN_FLAG }, HELP);
  if (!args) return EXIT.ok;
  const registry = await commandRegistry(pluginFlags(args.values));
  process.stdout.write(JSON.stringify(buildSchema(registry), null, 2) + '\n');
  return EXIT.ok;
}
