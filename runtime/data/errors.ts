/**
 * Errors about the user's data files (a corrupt PNG, a truncated dataset, a mask of the wrong
 * size). `DataError` is a `UserError`, so the CLI prints its message without a stack trace;
 * `file` names the offending file so callers (e.g. `punet import`) can report or skip it.
 */
import { UserError } from '../cli/errors.js';

export class DataError extends UserError {
  constructor(
    message: string,
    /** The file the problem is in (absolute or as given), when there is one. */
    readonly file?: string,
  ) {
    super(message, 1);
    this.name = 'DataError';
  }
}
