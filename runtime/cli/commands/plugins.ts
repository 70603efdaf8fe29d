/** `punet plugins`: what the registry holds, per extension point, with the plugin that gave it. */
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT } from '../errors.js';
import { EXTENSION_POINTS } from '../../../compiler/api.js';
import { commandRegistry } from '../../../spec/frontend-cli.js';

export const summary = 'list registered blocks, losses, distances, metrics, ... and their plugins';

const HELP = `usage: punet plugins [--plugin MODULE]... [--json]

Lists every contribution the registry holds (built-ins plus --plugin modules), by extension
point, with its plugin and description.

options:
${pluginHelp(20)}
  --json            machine-readable output
  -h, --help        this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('plugins', argv, { json: { type: 'boolean' }, ...PLUGIN_FLAG }, HELP);
  if (!args) return EXIT.ok;
  const registry = await commandRegistry(pluginFlags(args.values));
  const table = EXTENSION_POINTS.map((point) => ({
    point,
    entries: registry.list(point).map((e) => ({
      id: e.id,
      plugin: `${e.plugin.name}@${e.plugin.version}`,
      description: e.contribution.description,
    })),
  }));
  if (args.values.json) {
    process.stdout.write(JSON.stringify(table, null, 2) + '\n');
    return EXIT.ok;
  }
  for (const { point, entries } of table) {
    process.stdout.write(`${point}\n`);
    if (!entries.length) process.stdout.write('  (none)\n');
    const width = Math.max(0, ...entries.map((e) => e.id.length));
    for (const e of entries) process.stdout.write(`  ${e.id.padEnd(width)}  ${e.description}  [${e.plugin}]\n`);
  }
  return EXIT.ok;
}
