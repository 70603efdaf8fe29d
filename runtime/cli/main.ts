/**
 * `punet <command> ...`: dispatches (the executables are in bin/; this module only exports) to runtime/cli/commands/<command>.js. Each command module
 * exports `run(argv): Promise<number>` (the exit code) and a one-line `summary`. Commands load
 * lazily so `punet check` does not pay for TensorFlow.js start-up.
 */
import { UserError, EXIT, userErrorFromFs } from './errors.js';

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const COMMANDS: Record<string, () => Promise<Command>> = {
  'compile-and-train': () => import('./commands/compile-and-train.js'),
  check: () => import('./commands/check.js'),
  print: () => import('./commands/print.js'),
  schema: () => import('./commands/schema.js'),
  inspect: () => import('./commands/inspect.js'),
  sample: () => import('./commands/sample.js'),
  eval: () => import('./commands/eval.js'),
  import: () => import('./commands/import.js'),
  'latent-grid': () => import('./commands/latent-grid.js'),
  report: () => import('./commands/report.js'),
  plugins: () => import('./commands/plugins.js'),
  export: () => import('./commands/export.js'),
  sweep: () => import('./commands/sweep.js'),
  'sweep-task': () => import('./commands/sweep-task.js'),
  compare: () => import('./commands/compare.js'),
};

async function usage(): Promise<string> {
  const lines = ['usage: punet <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const summary = await load().then((c) => c.summary, () => '(not available in this build)');
    lines.push(`  ${name.padEnd(18)} ${summary}`);
  }
  lines.push('', "Run 'punet <command> --help' for a command's options.");
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    // A bare `punet` is a usage mistake: the usage goes to stderr so scripts piping stdout see nothing.
    process.stderr.write((await usage()) + '\n');
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await usage()) + '\n');
    return EXIT.ok;
  }
  if (isVersionFlag(name)) return printVersion();
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`punet: unknown command '${name}'\n\n${await usage()}\n`);
    return EXIT.usage;
  }
  return runCommand(await load(), rest);
}

const isVersionFlag = (arg: string | undefined) => arg === '--version' || arg === '-v';

async function printVersion(): Promise<number> {
  const { PUNET_VERSION } = await import('../run/version.js');
  process.stdout.write(PUNET_VERSION + '\n');
  return EXIT.ok;
}

/**
 * What the executables run: `punet ARGS` (command undefined) or a command's own executable
 * (`compile-and-train ARGS`, which also answers --version). Sets the exit code; Ctrl-C exits 130
 * unless the command handles SIGINT itself (compile-and-train saves a checkpoint first).
 */
export async function runExecutable(argv: string[], command?: string): Promise<void> {
  process.on('SIGINT', exitOnInterrupt);
  const args = command === undefined ? argv : isVersionFlag(argv[0]) ? [argv[0]!] : [command, ...argv];
  process.exitCode = await main(args);
}

function exitOnInterrupt(): void {
  if (process.listenerCount('SIGINT') > 1) return; // the running command has its own handler
  process.stderr.write('\npunet: interrupted\n');
  process.exit(EXIT.interrupted);
}

/** Runs a command; a UserError becomes its message and exit code, anything else a bug report. */
export async function runCommand(command: Command, argv: string[]): Promise<number> {
  try {
    return await command.run(argv);
  } catch (caught) {
    const err = userErrorFromFs(caught) ?? caught;
    if (err instanceof UserError) {
      process.stderr.write(`punet: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`punet: internal error (please report it with the command you ran):\n${(err as Error)?.stack ?? err}\n`);
    return EXIT.failure;
  }
}
