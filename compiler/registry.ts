/**
 * The registry: every block, loss, distance, ... that a spec can name, filled by plugins.
 * Built-in plugins are registered through the same `register` call third parties use; the only
 * difference is `builtin: true`, which lets their ids go without the `plugin-name/` namespace.
 */
import semver from 'semver';
import { EXTENSION_POINTS, PLUGIN_API_VERSION } from './api.js';
import type { Contributions, ExtensionPoint, PunetPlugin } from './api.js';
import { contributionProblem, describeValue } from './contribution-rules.js';

export interface Registered<P extends ExtensionPoint> {
  id: string;
  point: P;
  plugin: { name: string; version: string };
  /** Registered as a built-in (bare id). Errors inside built-ins are punet's bugs, not the user's. */
  builtin: boolean;
  contribution: Contributions[P];
}

/** A malformed plugin, named with its module file when it came from one. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
    readonly file?: string,
  ) {
    super(`plugin '${plugin}'${file ? ` (${file})` : ''}: ${message}`);
    this.name = 'PluginError';
  }
}

/** What the registry knows of a registered plugin besides its contributions. */
export interface PluginInfo {
  name: string;
  version: string;
  builtin: boolean;
  /** The module file it was loaded from (plugins registered by the loader). */
  file?: string;
  /** The npm package name it was requested by, when it was (not a path). */
  package?: string;
}

export interface RegisterOptions {
  /** Bare ids (no `plugin-name/` prefix); errors inside it are punet's bugs. */
  builtin?: boolean;
  /** The module file the plugin came from, named in errors about it. */
  file?: string;
  /** The npm package name it was requested by, when it was (not a path). */
  package?: string;
}

export class Registry {
  private readonly entries = new Map<ExtensionPoint, Map<string, Registered<ExtensionPoint>>>();
  private readonly plugins = new Map<string, PunetPlugin>();
  private readonly infos = new Map<string, PluginInfo>();

  constructor() {
    for (const point of EXTENSION_POINTS) this.entries.set(point, new Map());
  }

  /** Adds every contribution of `plugin`. Throws PluginError on a malformed plugin or a duplicate id. */
  register(plugin: PunetPlugin, opts: RegisterOptions = {}): void {
    checkPluginShape(plugin, opts.file);
    if (this.plugins.has(plugin.name)) throw new PluginError(plugin.name, 'is already registered', opts.file);
    checkContributions(plugin, opts.file);
    for (const point of EXTENSION_POINTS) {
      const contributions = plugin[point] as Record<string, Contributions[typeof point]> | undefined;
      for (const [key, contribution] of Object.entries(contributions ?? {})) {
        const id = opts.builtin ? key : `${plugin.name}/${key}`;
        const table = this.entries.get(point)!;
        const existing = table.get(id);
        if (existing) {
          throw new PluginError(
            plugin.name,
            `${point} id '${id}' is already registered by plugin '${existing.plugin.name}'`,
            opts.file,
          );
        }
        table.set(id, { id, point, plugin: { name: plugin.name, version: plugin.version }, builtin: !!opts.builtin, contribution });
      }
    }
    this.plugins.set(plugin.name, plugin);
    this.infos.set(plugin.name, { name: plugin.name, version: plugin.version, builtin: !!opts.builtin, ...(opts.file ? { file: opts.file } : {}), ...(opts.package ? { package: opts.package } : {}) });
  }

  get<P extends ExtensionPoint>(point: P, id: string): Registered<P> | undefined {
    return this.entries.get(point)!.get(id) as Registered<P> | undefined;
  }

  /** All ids registered at an extension point, sorted. */
  ids(point: ExtensionPoint): string[] {
    return [...this.entries.get(point)!.keys()].sort();
  }

  list<P extends ExtensionPoint>(point: P): Registered<P>[] {
    return [...this.entries.get(point)!.values()] as Registered<P>[];
  }

  pluginNames(): string[] {
    return [...this.plugins.keys()];
  }

  /** The registered plugin object of that name (to tell the same module loaded twice from a namesake). */
  plugin(name: string): PunetPlugin | undefined {
    return this.plugins.get(name);
  }

  pluginInfo(name: string): PluginInfo | undefined {
    return this.infos.get(name);
  }

  /** The name of the plugin registered from `file`, if any (the same module named twice loads once). */
  pluginFile(file: string): string | undefined {
    for (const info of this.infos.values()) if (info.file === file) return info.name;
    return undefined;
  }
}

/** Every contribution has the members its extension point needs (compiler/contribution-rules.ts). */
function checkContributions(plugin: PunetPlugin, file: string | undefined): void {
  for (const point of EXTENSION_POINTS) {
    const table = plugin[point] as unknown;
    if (table === undefined) continue;
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      throw new PluginError(plugin.name, `'${point}' must be an object of contributions by id, got ${describeValue(table)}`, file);
    }
    for (const [id, contribution] of Object.entries(table)) {
      if (!/^[a-z0-9][a-z0-9._-]*$/i.test(id)) throw new PluginError(plugin.name, `${point} id '${id}': ids are letters, digits, . _ or -`, file);
      const problem = contributionProblem(point, contribution);
      if (problem) throw new PluginError(plugin.name, `${point} '${id}' ${problem}`, file);
    }
  }
}

function checkPluginShape(plugin: PunetPlugin, file: string | undefined): void {
  const name = typeof plugin?.name === 'string' && plugin.name ? plugin.name : '<unnamed>';
  if (name === '<unnamed>') throw new PluginError(name, "has no 'name' (a non-empty string)", file);
  if (!/^[a-z0-9@][a-z0-9._/-]*$/i.test(name)) throw new PluginError(name, 'name must be letters, digits, . _ / - or @', file);
  if (typeof plugin.version !== 'string') throw new PluginError(name, "has no 'version' string", file);
  if (typeof plugin.punetApi !== 'string') {
    throw new PluginError(name, `has no 'punetApi' range (this punet implements plugin API ${PLUGIN_API_VERSION})`, file);
  }
  if (semver.validRange(plugin.punetApi) === null) {
    throw new PluginError(name, `'punetApi' is '${plugin.punetApi}', not a semver range; write e.g. '^${PLUGIN_API_VERSION}'`, file);
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, plugin.punetApi)) {
    throw new PluginError(name, `supports plugin API '${plugin.punetApi}', but this punet implements ${PLUGIN_API_VERSION}`, file);
  }
  const known = new Set<string>([...EXTENSION_POINTS, 'name', 'version', 'punetApi', 'description']);
  for (const key of Object.keys(plugin)) {
    if (!known.has(key)) {
      throw new PluginError(name, `unknown extension point '${key}' (known: ${EXTENSION_POINTS.join(', ')})`, file);
    }
  }
}
