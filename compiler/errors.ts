/**
 * Compile errors. A builder throws `BlockOptionError` naming the option (relative to its block);
 * the compiler rethrows it as a `CompileError` carrying the full JSON path into the resolved spec
 * (e.g. `unet.widths`), which the CLI maps back to file:line:col through the front end's positions.
 *
 * No dependencies: plugin modules import this without pulling in TensorFlow.js.
 */

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
