/**
 * Provenance written to run.json: where and with what a run was made (host, punet version,
 * backend, git commit of the spec's folder, plugins) and when (start, end, duration).
 */
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { Registry } from '../../compiler/registry.js';
import { EXTENSION_POINTS } from '../../compiler/api.js';

export interface PluginProvenance {
  name: string;
  version: string;
}

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

/** Plugins other than the built-in ones that contribute to the registry, in load order. */
export function pluginProvenance(registry: Registry): PluginProvenance[] {
  const seen = new Map<string, PluginProvenance>();
  for (const point of EXTENSION_POINTS) {
    for (const entry of registry.list(point)) {
      if (!entry.builtin && !seen.has(entry.plugin.name)) seen.set(entry.plugin.name, { ...entry.plugin });
    }
  }
  return [...seen.values()];
}

export function startProvenance(specDir: string, registry: Registry, backend: string): Record<string, unknown> {
  const git = gitCommitOf(specDir);
  return { host: hostname(), backend, ...(git ? { git } : {}), plugins: pluginProvenance(registry) };
}

/** Fields added when the run ends. */
export function endProvenance(started: string, now = new Date()): { ended: string; durationSeconds: number } {
  return { ended: now.toISOString(), durationSeconds: Math.round((now.getTime() - Date.parse(started)) / 100) / 10 };
}
