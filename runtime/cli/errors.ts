/**
 * Errors that are the user's to fix (a bad spec, a missing file, a wrong flag): the classes live
 * at the bottom layer (compiler/errors.ts) so the compiler can throw them without importing the CLI.
 */
import { UserError } from '../../compiler/errors.js';

export { EXIT, UserError } from '../../compiler/errors.js';

/** What to do about each filesystem error a user can cause (a bad path, a full disk, ...). */
const FS_ERROR_FIXES: Record<string, string> = {
  ENOENT: 'no such file or folder; check the path',
  EEXIST: 'already exists; remove it or choose another path',
  EACCES: 'permission denied; choose a path you can write to or change its permissions',
  EPERM: 'operation not permitted; choose a path you can write to or change its permissions',
  EROFS: 'the filesystem is read-only; choose a path on a writable filesystem',
  ENOSPC: 'the disk is full; free some space or choose a path on another disk',
  EDQUOT: 'the disk quota is exhausted; free some space or choose a path on another disk',
  ELOOP: 'too many levels of symbolic links (a symlink loop); fix or remove the link',
  EISDIR: 'is a folder where a file was expected; give a file path',
  ENOTDIR: 'a part of the path is a file where a folder was expected; fix the path',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
  EMFILE: 'too many open files; close other programs or raise the limit (ulimit -n)',
};

/**
 * A filesystem error (from node:fs) as a one-line UserError naming the path and the fix, or
 * undefined for anything else. Bugs stay bugs: only errors with an errno code and a path qualify.
 */
export function userErrorFromFs(err: unknown): UserError | undefined {
  const e = err as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  const fix = FS_ERROR_FIXES[e.code];
  if (!fix) return undefined;
  const path = e.dest && e.code === 'EEXIST' ? e.dest : e.path;
  return new UserError(`${path ?? `a file ${e.syscall}`}: ${fix} (${e.code} in ${e.syscall})`);
}

/**
 * Runs `fn` (a write to `path`) and names `path` on errors that lack it: writes through a file
 * descriptor (ENOSPC, EIO in write) carry no path, and "the disk is full" alone does not say where.
 */
export function namingPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e === 'object' && typeof e.code === 'string' && !e.path) e.path = path;
    throw err;
  }
}
