/**
 * Provenance written to run.json: where and with what a run was made (host, backend, git commit
 * of the spec's folder) and when (start, end, duration). Plugin names, versions and file hashes
 * are run.json's `plugins`, written by the run-folder code on main (harden branch).
 */
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';

export interface GitProvenance {
  commit: string;
  /** Uncommitted changes under the spec's folder when the run started. */
  dirty: boolean;
}

/** The commit checked out where the spec lives, or undefined outside a git work tree (or without git). */
export function gitCommitOf(dir: string): GitProvenance | undefined {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
    return { commit, dirty: git('status', '--porcelain', '--', '.') !== '' };
  } catch {
    return undefined;
  }
}

export function startProvenance(specDir: string, backend: string): Record<string, unknown> {
  const git = gitCommitOf(specDir);
  return { host: hostname(), backend, ...(git ? { git } : {}) };
}

/** Fields added when the run ends. */
export function endProvenance(started: string, now = new Date()): { ended: string; durationSeconds: number } {
  return { ended: now.toISOString(), durationSeconds: Math.round((now.getTime() - Date.parse(started)) / 100) / 10 };
}
