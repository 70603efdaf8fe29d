/**
 * Result folders of `punet eval` and `punet sample` (RUN/eval/<name>, RUN/samples/<name>): filled
 * in a hidden temporary sibling and swapped in at the end, so a re-run with the same name leaves
 * no stale files from the previous one and a failed run leaves the previous results intact.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EXIT, UserError } from '../cli/errors.js';

/** A file every results folder holds; a folder without it is never replaced. */
export type Marker = 'eval.json' | 'samples.json';

export async function replaceFolder(target: string, fill: (tmp: string) => Promise<void>, marker?: Marker): Promise<void> {
  const dir = resolve(target);
  if (existsSync(dir)) {
    const ours = statSync(dir).isDirectory() && (readdirSync(dir).length === 0 || (marker !== undefined && existsSync(join(dir, marker))));
    if (!ours) throw new UserError(`${target} exists and is not a punet ${marker ? marker.replace('.json', '') : 'results'} folder; choose another --out or --name`);
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    await fill(tmp);
    if (existsSync(dir)) {
      const old = `${tmp}-old`;
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A file-name-safe folder name from command options, e.g. "test-best-n1_4_16". */
export function resultName(parts: Array<string | number | undefined | false>): string {
  return parts
    .filter((p) => p !== undefined && p !== false && p !== '')
    .join('-')
    .replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** Checks a --name value: one plain folder name. */
export function checkResultName(flag: string, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UserError(`${flag} must be a plain folder name (letters, digits, . _ -), got '${name}'`, EXIT.usage);
  return name;
}
