/**
 * Argument parsing shared by commands: node:util parseArgs, with its errors turned into
 * usage errors (exit 2) that name the command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, EXIT } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export type ParsedArgs<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Parsed flags and positionals, or undefined when --help was printed. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, help: string): ParsedArgs<O> | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(help.trimEnd() + '\n');
    return undefined;
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError(`${command}: ${(err as Error).message}\n\n${help.trimEnd()}`, EXIT.usage);
  }
}

/** A flag that must be a positive integer (or zero with `allowZero`). */
export function intFlag(command: string, name: string, value: string | undefined, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UserError(`${command}: --${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${value}'`, EXIT.usage);
  }
  return n;
}

/**
 * `--plugin MODULE` (repeatable), the same on every command that reads a spec or a run: spread
 * PLUGIN_FLAG into the command's options, put `pluginHelp(column)` in its help text, and read
 * the values with `pluginFlags(values)`.
 */
export const PLUGIN_FLAG = { plugin: { type: 'string', multiple: true } } as const;

/** The help line of --plugin, its description starting at `column` (the command's other options' column). */
export function pluginHelp(column: number): string {
  const flag = '  --plugin MODULE';
  return `${flag.padEnd(Math.max(column, flag.length + 2))}register a plugin module first (repeatable): a .js file relative to the
${' '.repeat(Math.max(column, flag.length + 2))}current folder, or an npm package; adds to the spec's own \`use\` lines`;
}

/** The `--plugin` values given (none: an empty list). */
export function pluginFlags(values: { plugin?: string[] | undefined }): string[] {
  return values.plugin ?? [];
}
