/**
 * Compile errors. A builder throws `BlockOptionError` naming the option (relative to its block);
 * the compiler rethrows it as a `CompileError` carrying the full JSON path into the resolved spec
 * (e.g. `unet.widths`), which the CLI maps back to file:line:col through the front end's positions.
 *
 * `UserError` and `EXIT` live here too, at the bottom layer: the compiler and the plugin loader
 * throw them, and the CLI (runtime/cli/errors.ts re-exports them) prints them.
 *
 * No dependencies: plugin modules import this without pulling in TensorFlow.js.
 */

/**
 * Errors that are the user's to fix (a bad spec, a missing file, a wrong flag, a broken plugin).
 * The CLI prints their message, never a stack trace, and exits with `exitCode`.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** Thrown by a contribution's build/compose when one of its options cannot work. */
export class BlockOptionError extends Error {
  constructor(
    /** Option path inside the block, e.g. `widths` or `widths.3`; '' = the block itself. */
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'BlockOptionError';
  }
}

/** A spec that passed the schema checks but cannot be compiled. */
export class CompileError extends Error {
  constructor(
    /** JSON path into the resolved spec, dot separated (`unet.widths`, `loss.kl`). */
    readonly path: string,
    message: string,
    /** The plugin whose contribution reported it, when known. */
    readonly plugin?: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'CompileError';
  }
}

/** Joins JSON path segments, skipping empty ones. */
export function joinPath(...parts: Array<string | number | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== '').join('.');
}
