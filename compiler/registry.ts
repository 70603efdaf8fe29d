/**
 * The registry: every block, loss, distance, ... that a spec can name, filled by plugins.
 * Built-in plugins are registered through the same `register` call third parties use; the only
 * difference is `builtin: true`, which lets their ids go without the `plugin-name/` namespace.
 */
import semver from 'semver';
import { EXTENSION_POINTS, PLUGIN_API_VERSION } from './api.js';
import type { Contributions, ExtensionPoint, PunetPlugin } from './api.js';

export interface Registered<P extends ExtensionPoint> {
  id: string;
  point: P;
  plugin: { name: string; version: string };
  /** Registered as a built-in (bare id). Errors inside built-ins are punet's bugs, not the user's. */
  builtin: boolean;
  contribution: Contributions[P];
}

export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
  ) {
    super(`plugin '${plugin}': ${message}`);
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
}

export interface RegisterOptions {
  /** Bare ids (no `plugin-name/` prefix); errors inside it are punet's bugs. */
  builtin?: boolean;
  /** The module file the plugin came from, named in errors about it. */
  file?: string;
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
    checkPluginShape(plugin);
    if (this.plugins.has(plugin.name)) throw new PluginError(plugin.name, 'is already registered');
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
          );
        }
        table.set(id, { id, point, plugin: { name: plugin.name, version: plugin.version }, builtin: !!opts.builtin, contribution });
      }
    }
    this.plugins.set(plugin.name, plugin);
    this.infos.set(plugin.name, { name: plugin.name, version: plugin.version, builtin: !!opts.builtin, ...(opts.file ? { file: opts.file } : {}) });
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

function checkPluginShape(plugin: PunetPlugin): void {
  const name = typeof plugin?.name === 'string' && plugin.name ? plugin.name : '<unnamed>';
  if (name === '<unnamed>') throw new PluginError(name, "has no 'name' (a non-empty string)");
  if (!/^[a-z0-9@][a-z0-9._/-]*$/i.test(name)) throw new PluginError(name, 'name must be letters, digits, . _ / - or @');
  if (typeof plugin.version !== 'string') throw new PluginError(name, "has no 'version' string");
  if (typeof plugin.punetApi !== 'string') {
    throw new PluginError(name, `has no 'punetApi' range (this punet implements plugin API ${PLUGIN_API_VERSION})`);
  }
  if (semver.validRange(plugin.punetApi) === null) {
    throw new PluginError(name, `'punetApi' is '${plugin.punetApi}', not a semver range; write e.g. '^${PLUGIN_API_VERSION}'`);
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, plugin.punetApi)) {
    throw new PluginError(
      name,
      `supports plugin API '${plugin.punetApi}', but this punet implements ${PLUGIN_API_VERSION}`,
    );
  }
  const known = new Set<string>([...EXTENSION_POINTS, 'name', 'version', 'punetApi', 'description']);
  for (const key of Object.keys(plugin)) {
    if (!known.has(key)) {
      throw new PluginError(name, `unknown extension point '${key}' (known: ${EXTENSION_POINTS.join(', ')})`);
    }
  }
}
