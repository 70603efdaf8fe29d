/**
 * What the `check`, `print` and `schema` commands share: the registry (built-ins plus
 * `--plugin` modules), a plugin-loading hook for `use` lines, and diagnostic printing.
 * Plugin loading code is imported only when a spec or flag asks for a plugin, so a plain
 * `punet check` stays fast.
 */
import type { Registry } from '../compiler/registry.js';
import { formatDiagnostics, toJsonDiagnostic, type Diagnostic, type LoadSpecOptions, type PluginLoadFailure, type PluginUse } from './index.js';

export async function builtinRegistry(): Promise<Registry> {
  const { createRegistry } = await import('../plugins/index.js');
  return createRegistry();
}

/** Registers `--plugin` modules (relative to the current directory). Throws the loader's UserError. */
export async function addCliPlugins(registry: Registry, plugins: string[]): Promise<void> {
  if (!plugins.length) return;
  const { loadPlugins } = await import('../compiler/plugin-loader.js');
  await loadPlugins(plugins, registry, { fromDir: process.cwd() });
}

/**
 * The `loadPlugins` hook of loadSpec: each `use` module is loaded and registered exactly as
 * compile-and-train does (compiler/plugin-loader.ts loadPlugins), so a plugin named like a
 * built-in fails `check` too; failures are reported at its line.
 */
export const loadUsePlugins: NonNullable<LoadSpecOptions['loadPlugins']> = async (uses: PluginUse[], registry: Registry) => {
  const { loadPlugins } = await import('../compiler/plugin-loader.js');
  const failures: PluginLoadFailure[] = [];
  for (const use of uses) {
    try {
      await loadPlugins([use.module], registry, { fromDir: use.fromDir });
    } catch (e) {
      const err = e as { reason?: string; message?: string };
      failures.push({ module: use.module, message: err.reason ?? err.message ?? String(e) });
    }
  }
  return failures;
};

export function printDiagnostics(diagnostics: Diagnostic[], sources: Map<string, string>): void {
  if (diagnostics.length) process.stderr.write(formatDiagnostics(diagnostics, { sources }) + '\n');
}

export { toJsonDiagnostic };
