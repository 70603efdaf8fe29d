/**
 * What every command that reads a .punet spec shares: the registry (built-ins plus `--plugin`
 * modules, from the one loader in compiler/plugin-loader.ts), the spec's `use` lines loaded by
 * that same loader, each from the folder of the file that wrote it (so a spec that extends one
 * in another folder loads that file's plugins from there), and diagnostic printing.
 */
import type { Registry } from '../compiler/registry.js';
import { createPluginRegistry, loadPlugins } from '../compiler/plugin-loader.js';
import { formatDiagnostics, loadSpec, toJsonDiagnostic, type Diagnostic, type LoadSpecOptions, type PluginLoadFailure, type PluginUse, type SpecResult } from './index.js';

/** The registry of a command: built-ins, then `--plugin` modules (relative to the current directory). */
export function commandRegistry(cliPlugins: readonly string[] = []): Promise<Registry> {
  return createPluginRegistry({ cliPlugins });
}

/**
 * The `loadPlugins` hook of loadSpec: each `use` module is loaded and registered by the loader
 * compile-and-train uses, from the folder of the file that wrote it, so a plugin named like a
 * built-in fails `check` too; failures are reported at its line.
 */
export const loadUsePlugins: NonNullable<LoadSpecOptions['loadPlugins']> = async (uses: PluginUse[], registry: Registry) => {
  const failures: PluginLoadFailure[] = [];
  for (const use of uses) {
    try {
      await loadPlugins([{ specifier: use.specifier, fromDir: use.fromDir }], registry);
    } catch (e) {
      const err = e as { reason?: string; message?: string };
      failures.push({ module: use.module, message: err.reason ?? err.message ?? String(e) });
    }
  }
  return failures;
};

/** Reads, resolves and validates a spec for a command, its `use` lines loaded into `registry`. */
export function readSpec(file: string, registry: Registry, overrides: readonly string[] = []): Promise<SpecResult> {
  return loadSpec(file, { registry, loadPlugins: loadUsePlugins, overrides });
}

export function printDiagnostics(diagnostics: Diagnostic[], sources: Map<string, string>): void {
  if (diagnostics.length) process.stderr.write(formatDiagnostics(diagnostics, { sources }) + '\n');
}

export { toJsonDiagnostic };
