/**
 * Run folders are owned: before training writes anything into `--out`, the folder must be empty,
 * new, or a punet run folder; and no other live process may be writing to it. A lock file
 * (`.punet-lock`, JSON { pid, host, started }) marks the writer; a lock whose process is gone (same
 * host, pid not running) is stale and taken over.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../cli/errors.js';
import { RUN_FILES } from './folder.js';

export const LOCK_FILE = '.punet-lock';

/** Names a punet run folder may hold besides RUN_FILES (written by report, eval, sample, compare, temporaries). */
const OTHER_RUN_ENTRIES = [/^report\.html?$/, /^eval(-[\w.-]+)?\.json$/, /^eval$/, /^compare$/, /^\.punet-lock$/, /\.tmp-\d+$/, /^\..*\.tmp$/];

export interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** Entries of `dir` that punet did not write: training into it would mix them with a run. */
export function foreignEntries(dir: string): string[] {
  const known = new Set<string>(Object.values(RUN_FILES));
  return readdirSync(dir).filter((name) => !known.has(name) && !OTHER_RUN_ENTRIES.some((re) => re.test(name)));
}

/**
 * Checks that `dir` (the `--out` of a training run) may be written, without writing anything:
 * it is a folder (or does not exist), holds only punet files, and no live process holds its lock.
 */
export function checkRunFolder(dir: string, shown: string): void {
  if (!existsSync(dir)) {
    if (lstatExists(dir)) throw new UserError(`--out ${shown} is a broken symbolic link; remove it or choose another --out`);
    return;
  }
  if (!statSync(dir).isDirectory()) throw new UserError(`--out ${shown} is a file, not a folder; choose a folder for the run`);
  const entries = readdirSync(dir);
  // Every run writes run.json with its first files: without it, spec.json & co. are someone else's.
  if (entries.length && !isRunInfo(join(dir, RUN_FILES.run))) {
    throw new UserError(`--out ${shown} is not empty and is not a punet run folder (no valid run.json); choose an empty or new folder for the run`);
  }
  const foreign = foreignEntries(dir);
  if (foreign.length) {
    const list = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, ... (${foreign.length} in all)` : '');
    throw new UserError(`--out ${shown} holds files punet did not write (${list}); choose an empty or new folder for the run`);
  }
  const holder = liveLockHolder(dir);
  if (holder) {
    throw new UserError(
      `--out ${shown} is in use by another run (pid ${holder.pid} on ${holder.host}, since ${holder.started}); ` +
        `wait for it to finish or choose another --out${holder.host === hostname() ? '' : ` (remove ${join(shown, LOCK_FILE)} if that run is gone)`}`,
    );
  }
}

/** The process holding `dir`'s lock when it is alive (or on another host, where it cannot be checked). */
export function liveLockHolder(dir: string): LockInfo | undefined {
  const lock = readLock(join(dir, LOCK_FILE));
  if (!lock) return undefined;
  if (lock.pid === process.pid && lock.host === hostname()) return undefined;
  if (lock.host !== hostname()) return lock;
  return isAlive(lock.pid) ? lock : undefined;
}

/**
 * Takes `dir`'s lock for this process (after checkRunFolder passed) and releases it at exit.
 * A second process racing for the same folder gets EEXIST on the exclusive create and a UserError.
 */
export function acquireRunLock(dir: string, shown: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  if (existsSync(path) && !liveLockHolder(dir)) rmSync(path, { force: true }); // stale: its process is gone
  try {
    writeFileSync(path, JSON.stringify(info) + '\n', { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = readLock(path);
    throw new UserError(`--out ${shown} is in use by another run${holder ? ` (pid ${holder.pid} on ${holder.host})` : ''}; wait for it to finish or choose another --out`);
  }
  const release = () => {
    held.delete(path);
    const current = readLock(path);
    if (current && current.pid === info.pid && current.host === info.host) rmSync(path, { force: true });
  };
  held.set(path, release);
  if (held.size === 1 && !process.listeners('exit').includes(releaseAll)) process.on('exit', releaseAll);
  return release;
}

/** Locks this process holds, released at exit (one listener, however many runs a process makes). */
const held = new Map<string, () => void>();

function releaseAll(): void {
  for (const release of [...held.values()]) release();
}

function isRunInfo(path: string): boolean {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return typeof info === 'object' && info !== null && typeof info.punetVersion === 'string' && Array.isArray(info.command);
  } catch {
    return false;
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof value.pid === 'number' && typeof value.host === 'string') return { pid: value.pid, host: value.host, started: String(value.started ?? '?') };
  } catch {
    /* missing or half-written: treated as no lock */
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
