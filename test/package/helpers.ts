/**
 * Packs punet the way `npm publish` would and installs the tarball into a fresh project, so tests
 * run what a user gets: the installed bins through npm's symlinks and `import('punet')`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ensureDist } from '../cli/helpers.js';

export interface PackedFile {
  path: string;
  size: number;
}

export interface InstalledProject {
  /** The consumer project (package.json + node_modules/punet). */
  dir: string;
  tarball: string;
  files: PackedFile[];
  version: string;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm pack` (dist/ must be built: `npm test` builds it first) + `npm install TARBALL` in a temp project. */
export function packAndInstall(): InstalledProject {
  ensureDist();
  const work = mkdtempSync(join(tmpdir(), 'punet-pkg-'));
  // --ignore-scripts: `prepare` would rebuild dist/, which is already built.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }),
  )[0] as { filename: string; files: PackedFile[] };
  const dir = join(work, 'project');
  execFileSync('mkdir', [dir]);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'punet-consumer', private: true, type: 'module' }, null, 2));
  const tarball = join(work, packed.filename);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], { cwd: dir, stdio: 'ignore' });
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  return { dir, tarball, files: packed.files, version };
}

/** Runs a command line in `cwd` (e.g. `npx punet check x.punet`), never throwing on a non-zero exit. */
export function runIn(cwd: string, command: string, args: string[]): Result {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, PUNET_WASM_THREADS: '1' } });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
