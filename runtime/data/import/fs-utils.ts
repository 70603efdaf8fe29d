/** Directory listing helpers for the scanners: sorted, PNG-aware, with clear errors. */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import type { DecodedDeepPng } from '../png.js';

export function listDir(dir: string): { dirs: string[]; files: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new DataError(`cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, dir);
  }
  const dirs: string[] = [];
  const files: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue; // hidden files, temp files
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue; // a dangling symlink
    // Symlinked folders are not followed: a link to an ancestor (or /proc/self/root) never ends.
    if (stat.isDirectory()) {
      if (!lstatSync(path).isSymbolicLink()) dirs.push(name);
    } else files.push(name);
  }
  return { dirs, files };
}

export const isPng = (name: string) => /\.png$/i.test(name);
export const stem = (name: string) => name.replace(/\.[^.]+$/, '');

/** A subfolder of `dir` whose name matches one of `candidates` case-insensitively. */
export function findFolder(dirs: string[], candidates: string[]): string | undefined {
  for (const c of candidates) {
    const hit = dirs.find((d) => d.toLowerCase() === c.toLowerCase());
    if (hit) return hit;
  }
  return undefined;
}

/** A decoded image file as a scanner's `load()` hands it on: the samples and the file's bit depth. */
export function withDepth(png: DecodedDeepPng): { image: DecodedDeepPng; bitDepth: number } {
  return { image: png, bitDepth: png.bitDepth };
}
