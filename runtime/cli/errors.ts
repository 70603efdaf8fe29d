/**
 * Errors that are the user's to fix (a bad spec, a missing file, a wrong flag). The CLI prints
 * their message, never a stack trace, and exits with `exitCode`.
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
