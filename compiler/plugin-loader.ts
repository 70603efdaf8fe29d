/**
 * The one plugin loader: every command gets its registry from `createPluginRegistry` (built-ins,
 * `--plugin` modules, and `use` lines known up front, e.g. a run's spec.json) and loads the `use`
 * lines it finds while reading a spec through `loadPlugins`. It registers plugins and attributes
 * errors thrown inside plugin code to the plugin, extension point and contribution.
 *
 * Resolution: every request carries the folder it resolves from, the folder of the spec file that
 * wrote the `use` line (so a spec extended from another folder loads its plugins from its own
 * folder) or the current directory for `--plugin`. `./x.js`, `../x.js`, absolute paths and
 * `file:` URLs are files; any other specifier is an npm package resolved by Node's own ES module
 * resolver (`exports` with the 'import' condition, then `main`). A module must
 * `export default plugin` or `export const plugin = ...`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from './errors.js';
import { EXTENSION_POINTS } from './api.js';
import type { Contributions, ExtensionPoint, PunetPlugin } from './api.js';
import { PluginError } from './registry.js';
import type { Registered, Registry } from './registry.js';

/** Where in a spec something was written: `{ file, line, column }` or a preformatted "file:line:col". */
export type SpecPosition = string | { file: string; line: number; column?: number };

export function formatPosition(at: SpecPosition | undefined): string | undefined {
  if (at === undefined) return undefined;
  if (typeof at === 'string') return at;
  return at.column === undefined ? `${at.file}:${at.line}` : `${at.file}:${at.line}:${at.column}`;
}

/** A plugin could not be found, parsed, or accepted. A user error: the CLI prints only the message. */
export class PluginLoadError extends UserError {
  constructor(
    readonly specifier: string,
    readonly reason: string,
    readonly at?: SpecPosition,
  ) {
    const where = formatPosition(at);
    super(`${where ? `${where}: ` : ''}plugin '${specifier}': ${reason}`);
    this.name = 'PluginLoadError';
  }
}

/** One module to load: a `use` line or a `--plugin` value. */
export interface PluginRequest {
  /** As written, or the absolute path the spec front end resolved it to. */
  specifier: string;
  /** The folder it resolves from: that of the spec file that wrote the `use` line, or the cwd for `--plugin`. */
  fromDir: string;
  /** Where it was written, for messages. */
  at?: SpecPosition;
}

export interface LoadOptions {
  /** The folder relative paths and package names resolve from (the spec's folder, or cwd for --plugin). */
  fromDir: string;
  /** Where the `use` line is, for messages. */
  at?: SpecPosition;
}

export interface PluginRegistryOptions {
  /** `--plugin MODULE` values, resolved from `cwd`, registered first. */
  cliPlugins?: readonly string[];
  /** `use` lines known before any spec is read (a run's spec.json), each with its own folder. */
  use?: readonly PluginRequest[];
  /** Where `--plugin` values resolve from (default: the current directory). */
  cwd?: string;
}

/**
 * The registry every command uses: the built-in plugins, then the `--plugin` modules, then the
 * given `use` lines. A spec's own `use` lines are added while it is read (spec/frontend-cli.ts
 * hands them to `loadPlugins`).
 */
export async function createPluginRegistry(opts: PluginRegistryOptions = {}): Promise<Registry> {
  // Imported lazily: `punet check` without plugins should not pay for loading this module's callers.
  const { createRegistry } = await import('../plugins/index.js');
  const registry = createRegistry();
  const cwd = opts.cwd ?? process.cwd();
  await loadPlugins([...(opts.cliPlugins ?? []).map((specifier) => ({ specifier, fromDir: cwd })), ...(opts.use ?? [])], registry);
  return registry;
}

/** Where each loaded plugin (by name) came from, so errors thrown inside it can quote its own file:line. */
const pluginFiles = new Map<string, string>();

/** Loads one plugin module and returns its plugin object (not yet registered). */
export async function loadPlugin(specifier: string, opts: LoadOptions): Promise<PunetPlugin> {
  const { plugin, file } = await importPlugin(specifier, resolveSpecifier(specifier, opts), opts.at);
  pluginFiles.set(plugin.name, file);
  return plugin;
}

async function importPlugin(specifier: string, file: string, at: SpecPosition | undefined): Promise<{ plugin: PunetPlugin; file: string }> {
  let mod: Record<string, unknown>;
  try {
    mod = await withLoadTimeout(import(/* @vite-ignore */ pathToFileURL(file).href) as Promise<Record<string, unknown>>, specifier, file, at);
  } catch (err) {
    if (err instanceof PluginLoadError) throw err;
    throw new PluginLoadError(specifier, describeImportFailure(err, file), at);
  }
  const plugin = pickExport(mod);
  if (!plugin) {
    const names = Object.keys(mod).filter((k) => k !== '__esModule');
    throw new PluginLoadError(
      specifier,
      `${file} has no plugin export: write \`export default plugin\` or \`export const plugin = {...}\`` +
        ` (it exports: ${names.length ? names.join(', ') : 'nothing'})`,
      at,
    );
  }
  // A thenable plugin would be adopted as a promise by every `await` and never settle.
  if (typeof (plugin as { then?: unknown }).then === 'function') {
    throw new PluginLoadError(specifier, `the exported plugin object in ${file} has a 'then' method, so it looks like a promise; export the plugin object itself`, at);
  }
  if (typeof plugin.name !== 'string' || !plugin.name) {
    throw new PluginLoadError(specifier, `the exported plugin object in ${file} has no 'name' (a non-empty string)`, at);
  }
  return { plugin, file };
}

/**
 * Loads and registers plugins in order. A request given as a string resolves from
 * `opts.fromDir`; a PluginRequest from its own `fromDir`. The same module named twice (by `use`
 * in two files of an extends chain, or by `use` and `--plugin`) is registered once; a different
 * module with an already registered name or id is an error naming both plugins.
 */
export async function loadPlugins(
  requests: ReadonlyArray<string | PluginRequest>,
  registry: Registry,
  opts: { fromDir?: string } = {},
): Promise<PunetPlugin[]> {
  const loaded: PunetPlugin[] = [];
  for (const request of requests) {
    const { specifier, fromDir, at } = typeof request === 'string' ? { specifier: request, fromDir: opts.fromDir ?? process.cwd(), at: undefined } : request;
    const file = resolveSpecifier(specifier, { fromDir, at });
    if (registry.pluginFile(file)) continue;
    const { plugin } = await importPlugin(specifier, file, at);
    if (registry.plugin(plugin.name) === plugin) continue; // the same module object again
    if (registry.pluginNames().includes(plugin.name)) {
      const earlier = registry.pluginInfo(plugin.name)?.file;
      throw new PluginLoadError(
        specifier,
        `plugin '${plugin.name}' (${file}) has the same name as the already registered plugin '${plugin.name}'` +
          ` (${earlier && earlier !== file ? earlier : 'a built-in or earlier plugin'}): ids are namespaced by plugin name, so rename one`,
        at,
      );
    }
    try {
      registry.register(plugin, { file, ...(isPath(specifier) ? {} : { package: specifier }) });
    } catch (err) {
      if (err instanceof PluginError) throw new PluginLoadError(specifier, err.message, at);
      throw err;
    }
    pluginFiles.set(plugin.name, file);
    loaded.push(plugin);
  }
  return loaded;
}

/** The largest plugin module file punet imports (a bundled plugin is a few MB at most). */
const MAX_PLUGIN_BYTES = 64 * 2 ** 20;

/** How long a plugin module may take to load (a top-level await that never settles would otherwise end the process silently). */
export function pluginLoadTimeoutMs(): number {
  const fromEnv = Number(process.env.PUNET_PLUGIN_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 30_000;
}

async function withLoadTimeout<T>(loading: Promise<T>, specifier: string, file: string, at: SpecPosition | undefined): Promise<T> {
  const ms = pluginLoadTimeoutMs();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // The pending timer also keeps the event loop alive while the import is unsettled.
    timer = setTimeout(
      () => reject(new PluginLoadError(specifier, `${file} did not finish loading within ${ms / 1000} s (a top-level await that never settles, or a module exporting 'then'?); fix the module, or raise PUNET_PLUGIN_TIMEOUT_MS`, at)),
      ms,
    );
  });
  try {
    return await Promise.race([loading, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What run.json and checkpoints record of each registered plugin: name and version always;
 * for plugins loaded from files also the file and its sha256, so later commands can tell when
 * its code changed. Built-ins are recorded with punet's version (they ship with it).
 */
export interface PluginRecord {
  name: string;
  version: string;
  /** Present for built-in plugins. */
  builtin?: true;
  file?: string;
  sha256?: string;
  /** The package name a `use` line or `--plugin` named it by (not for paths): reopening the run loads `file` for it. */
  package?: string;
}

export function fileSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Name and version of every plugin in `registry`, in registration order (built-ins: punet's version). */
export function pluginVersions(registry: Registry, punetVersion: string): Array<{ name: string; version: string }> {
  return registry.pluginNames().map((name) => {
    const info = registry.pluginInfo(name)!;
    return { name, version: info.builtin ? punetVersion : info.version };
  });
}

/** Records of every plugin in `registry`, in registration order. */
export function pluginRecords(registry: Registry, punetVersion: string): PluginRecord[] {
  return pluginVersions(registry, punetVersion).map(({ name, version }) => {
    const info = registry.pluginInfo(name)!;
    if (info.builtin) return { name, version, builtin: true };
    if (!info.file) return { name, version };
    return { name, version, file: info.file, sha256: fileSha256(info.file), ...(info.package ? { package: info.package } : {}) };
  });
}

/**
 * Plugins whose version now differs from the one a run recorded (run.json `plugins`): one line
 * each, for commands that reopen a run to warn with. Plugins the run did not record are skipped.
 */
export function pluginVersionChanges(recorded: ReadonlyArray<{ name: string; version: string }>, registry: Registry, punetVersion: string): string[] {
  const now = new Map(pluginVersions(registry, punetVersion).map((p) => [p.name, p.version]));
  return recorded
    .filter((r) => now.has(r.name) && now.get(r.name) !== r.version)
    .map((r) => `plugin '${r.name}' is version ${now.get(r.name)} now; the run was trained with ${r.version}, so results may differ from training time`);
}

// ---------------------------------------------------------------------------------------------
// Resolution

/** Whether a specifier names a file (`./x.js`, `../x.js`, `/abs/x.js`, `file:...`) rather than a package. */
export function isPath(specifier: string): boolean {
  return specifier.startsWith('file:') || specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || isAbsolute(specifier);
}

/** The absolute file a specifier names; throws PluginLoadError when there is none. */
export function resolveSpecifier(specifier: string, opts: LoadOptions): string {
  if (specifier.startsWith('file:')) return checkFile(specifier, fileURLToPath(specifier), opts);
  if (isPath(specifier)) return checkFile(specifier, resolve(opts.fromDir, specifier), opts);
  return checkFile(specifier, resolvePackage(specifier, opts), opts);
}

function checkFile(specifier: string, file: string, opts: LoadOptions): string {
  if (!existsSync(file)) throw new PluginLoadError(specifier, `cannot find plugin '${specifier}' (looked in ${file})`, opts.at);
  if (statSync(file).isDirectory()) {
    const index = join(file, 'index.js');
    if (existsSync(index)) return index;
    throw new PluginLoadError(specifier, `${file} is a folder without index.js; name the plugin's .js file`, opts.at);
  }
  // Importing a device or FIFO would read forever (or block): only regular files are plugins.
  const stat = statSync(file);
  if (!stat.isFile()) throw new PluginLoadError(specifier, `${file} is not a regular file (a device, FIFO or socket); name the plugin's .js file`, opts.at);
  if (stat.size > MAX_PLUGIN_BYTES) throw new PluginLoadError(specifier, `${file} is ${stat.size} bytes, more than ${MAX_PLUGIN_BYTES} for a plugin module; is it really a plugin?`, opts.at);
  return file;
}

/**
 * Node's own ES module resolver, run from `fromDir`. On Node 20 `import.meta.resolve` ignores its
 * parent argument without a flag, and `createRequire(...).resolve` picks the 'require' condition,
 * so the resolver runs in a child whose module URL lies in `fromDir` (an inline module's URL is
 * the working directory). Costs one short node start, only for package names.
 */
const RESOLVE_SCRIPT =
  'let r;try{r={url:import.meta.resolve(process.argv[1])}}catch(e){r={code:e.code,message:String(e.message).split("\\n")[0]}}process.stdout.write(JSON.stringify(r))';

function resolvePackage(specifier: string, opts: LoadOptions): string {
  const fromDir = resolve(opts.fromDir);
  if (!existsSync(fromDir)) throw new PluginLoadError(specifier, `cannot resolve plugin package '${specifier}' from ${fromDir}: the folder does not exist`, opts.at);
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', RESOLVE_SCRIPT, specifier], {
    cwd: fromDir,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let answer: { url?: string; code?: string; message?: string };
  try {
    answer = JSON.parse(run.stdout);
  } catch {
    throw new PluginLoadError(specifier, `resolving package '${specifier}' from ${fromDir} failed: ${(run.error?.message ?? run.stderr.trim().split('\n')[0]) || 'no answer from node'}`, opts.at);
  }
  const pkg = packageName(specifier);
  if (answer.url?.startsWith('file:')) return fileURLToPath(answer.url);
  if (answer.url) throw new PluginLoadError(specifier, `'${specifier}' is Node's built-in module ${answer.url}, not a plugin package`, opts.at);
  switch (answer.code) {
    case 'ERR_MODULE_NOT_FOUND':
      throw new PluginLoadError(
        specifier,
        `cannot find plugin package '${specifier}' (looked in ${join(fromDir, 'node_modules', pkg)} and the node_modules folders above it); ` +
          `install it next to the spec or write a path such as './${specifier}.js'`,
        opts.at,
      );
    case 'ERR_PACKAGE_PATH_NOT_EXPORTED':
    case 'ERR_UNSUPPORTED_DIR_IMPORT':
    case 'ERR_INVALID_PACKAGE_TARGET':
    case 'ERR_INVALID_PACKAGE_CONFIG':
      throw new PluginLoadError(specifier, `package '${pkg}' has no usable entry point for import of '${specifier}': ${answer.message}`, opts.at);
    default:
      throw new PluginLoadError(specifier, `cannot resolve plugin package '${specifier}' from ${fromDir}: ${answer.message ?? 'unknown error'}`, opts.at);
  }
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

// ---------------------------------------------------------------------------------------------
// Module contents

function isPluginLike(value: unknown): value is PunetPlugin {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return 'name' in v || 'punetApi' in v || EXTENSION_POINTS.some((p) => p in v);
}

function pickExport(mod: Record<string, unknown>): PunetPlugin | undefined {
  const candidates = [mod.default, mod.plugin, (mod.default as Record<string, unknown> | undefined)?.default];
  return candidates.find(isPluginLike) as PunetPlugin | undefined;
}

/** A one-line reason an import failed, with file:line for syntax errors. */
function describeImportFailure(err: unknown, file: string): string {
  const e = err as Error & { code?: string };
  const message = String(e?.message ?? err).split('\n')[0]!;
  const isSyntax = e?.name === 'SyntaxError' || /Parse fail|SyntaxError/i.test(String(e?.message ?? ''));
  if (isSyntax) {
    const where = syntaxErrorLocation(file) ?? file;
    const detail = /Parse fail/.test(message) ? String(e.message).split('\n')[1] ?? message : message;
    return `syntax error in ${where}: ${detail.trim()}`;
  }
  if (e?.code === 'ERR_MODULE_NOT_FOUND') return `${file} imports something that cannot be found: ${message}`;
  return `loading ${file} failed: ${e?.name ?? 'Error'}: ${message}`;
}

/** Node does not put the location of an ES module syntax error on the error object: ask `node --check`. */
function syntaxErrorLocation(file: string): string | undefined {
  for (const flags of [['--experimental-default-type=module'], []]) {
    const run = spawnSync(process.execPath, [...flags, '--check', file], { encoding: 'utf8', timeout: 10_000 });
    const header = /^(.+):(\d+)\s*$/m.exec(run.stderr ?? '');
    if (run.status !== 0 && header && resolve(header[1]!) === resolve(file)) return `${file}:${header[2]}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors inside plugin code

/** Something a plugin's contribution threw, attributed to the plugin, point, id and spec position. */
export class PluginContributionError extends UserError {
  constructor(
    readonly plugin: string,
    readonly point: ExtensionPoint,
    readonly id: string,
    readonly at: SpecPosition | undefined,
    readonly original: unknown,
  ) {
    const where = formatPosition(at);
    const inner = original instanceof Error ? `${original.name === 'Error' ? '' : `${original.name}: `}${original.message}` : String(original);
    super(`${where ? `${where}: ` : ''}plugin '${plugin}' failed in ${point} '${id}': ${inner}`);
    this.name = 'PluginContributionError';
    (this as { cause?: unknown }).cause = original;
  }
}

interface Source {
  plugin: { name: string };
  point: ExtensionPoint;
  id: string;
}

/**
 * Runs `fn` (a call into plugin code) and rethrows anything it throws as a
 * PluginContributionError. Errors already attributed (an inner contribution) pass through
 * unchanged, so the innermost plugin is named. Works for sync and async `fn`.
 */
export function callPlugin<R>(source: Source, fn: () => R, at?: SpecPosition): R {
  const wrap = (err: unknown): never => {
    if (err instanceof PluginContributionError || err instanceof PluginLoadError) throw err;
    throw new PluginContributionError(source.plugin.name, source.point, source.id, at, addPluginFrame(err, source.plugin));
  };
  let result: R;
  try {
    result = fn();
  } catch (err) {
    return wrap(err);
  }
  if (result && typeof (result as { then?: unknown }).then === 'function') {
    return (result as unknown as Promise<unknown>).catch(wrap) as R;
  }
  return result;
}

/** Appends " (at /path/plugin.js:12:7)" to the message when the stack shows the plugin's own file. */
function addPluginFrame(err: unknown, plugin: { name: string }): unknown {
  if (!(err instanceof Error)) return err;
  const file = pluginFiles.get(plugin.name);
  if (!file) return err;
  const frame = String(err.stack ?? '')
    .split('\n')
    .find((line) => line.includes(file) || line.includes(pathToFileURL(file).href));
  const loc = frame ? /((?:file:\/\/)?\/[^\s()]+:\d+:\d+)/.exec(frame)?.[1] : undefined;
  if (loc && !err.message.includes(loc)) err.message = `${err.message} (at ${loc.replace(/^file:\/\//, '')})`;
  return err;
}

/**
 * A copy of a registered contribution whose methods report errors through `callPlugin`. For
 * blocks and architectures the objects they build (blocks, the segmenter) are wrapped too, so an
 * error at train or sample time still names the contribution that built them.
 */
export function wrapContribution<P extends ExtensionPoint>(entry: Registered<P>, at?: SpecPosition): Contributions[P] {
  return wrapMethods(entry.contribution as object, entry, at, entry.point === 'blocks' || entry.point === 'architectures') as Contributions[P];
}

function wrapMethods<T extends object>(target: T, source: Source, at: SpecPosition | undefined, wrapResults: boolean): T {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(target)) {
    const value = (target as Record<string, unknown>)[key];
    if (typeof value !== 'function') {
      copy[key] = value;
      continue;
    }
    const check = RESULT_CHECKS[`${source.point}.${key}`];
    copy[key] = (...args: unknown[]) => {
      const result = callPlugin(source, () => checked((value as (...a: unknown[]) => unknown).apply(target, args), check), at);
      // A built block or segmenter: a plain object of methods (not a tensor, not a promise).
      if (wrapResults && isMethodBag(result)) return wrapMethods(result as object, source, at, false);
      return result;
    };
  }
  return copy as T;
}

/**
 * What a plugin's method must return, by `point.method`; a wrong value is reported as the
 * plugin's error (through callPlugin) instead of failing later inside punet. Returns why not.
 */
const RESULT_CHECKS: Record<string, (value: unknown) => string | undefined> = {
  'losses.compute': scalarTensor,
  'klEstimators.compute': scalarTensor,
  'regularizers.compute': scalarTensor,
  'distances.distance': (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `returned ${show(v)}, expected a finite number`),
  'dataSources.load': dataset,
};

function checked(result: unknown, check: ((value: unknown) => string | undefined) | undefined): unknown {
  if (!check) return result;
  const verify = (value: unknown) => {
    const problem = check(value);
    if (problem) throw new Error(problem);
    return value;
  };
  return result && typeof (result as { then?: unknown }).then === 'function' ? (result as Promise<unknown>).then(verify) : verify(result);
}

function scalarTensor(v: unknown): string | undefined {
  const t = v as { shape?: unknown; size?: unknown; dtype?: unknown } | null;
  if (!t || typeof t !== 'object' || !Array.isArray(t.shape) || typeof t.size !== 'number') return `returned ${show(v)}, expected a scalar tensor`;
  return t.size === 1 ? undefined : `returned a tensor of shape [${t.shape.join(', ')}], expected a scalar`;
}

function dataset(v: unknown): string | undefined {
  const d = v as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') return `returned ${show(v)}, expected a dataset object`;
  for (const key of ['height', 'width', 'channels', 'classes']) {
    if (!Number.isInteger(d[key]) || (d[key] as number) < 1) return `returned a dataset whose ${key} is ${show(d[key])}, expected a positive integer`;
  }
  if (!Array.isArray(d.items)) return `returned a dataset whose items is ${show(d.items)}, expected a list`;
  const splits = d.splits as Record<string, unknown> | undefined;
  for (const split of ['train', 'val', 'test']) {
    const ids = splits?.[split];
    if (!Array.isArray(ids) || !ids.every((i) => Number.isInteger(i) && i >= 0 && i < (d.items as unknown[]).length)) {
      return `returned a dataset whose splits.${split} is not a list of item indices`;
    }
  }
  return undefined;
}

function show(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  return Array.isArray(v) ? 'a list' : typeof v;
}

function isMethodBag(value: unknown): boolean {
  if (!value || typeof value !== 'object' || typeof (value as { then?: unknown }).then === 'function') return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).some((v) => typeof v === 'function');
}
