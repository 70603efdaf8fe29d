/**
 * Reads a spec file and the chain of files it extends, parses each, and merges them into one
 * JSON layer (base first). Problems become diagnostics: unreadable or missing files, extends
 * cycles (reported with the chain of files), syntax errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Range, SpecFile } from './ast.js';
import { CODES, error, hasErrors, type Diagnostic } from './diagnostics.js';
import { tokenize } from './lexer.js';
import { finishRootLayer, mergeLayers } from './merge.js';
import { parseTokens } from './parser.js';
import { modelToJson, type Layer } from './to-json.js';

/** A `use` line: what was written and what it resolves to (absolute path or package name). */
export interface UseRef {
  specifier: string;
  module: string;
  range: Range;
}

export interface LoadedChain {
  /** The merged JSON (before schema defaults), absent when a file could not be read or parsed. */
  layer?: Layer;
  uses: UseRef[];
  /** Text of every file read (diagnostics print lines from it). */
  sources: Map<string, string>;
  /** Files in extends order, the given file last. */
  files: string[];
  diagnostics: Diagnostic[];
}

/** Specs larger than this are refused before lexing (a .punet file is a few kilobytes). */
export const MAX_SPEC_BYTES = 1 << 20;

interface Ctx {
  sources: Map<string, string>;
  uses: UseRef[];
  files: string[];
  diagnostics: Diagnostic[];
  top: string;
}

/**
 * Loads `file` (absolute) and everything it extends. `text`, when given, is used instead of
 * reading `file` (editors, tests); extended files are always read from disk.
 */
export function loadChain(file: string, text?: string): LoadedChain {
  const ctx: Ctx = { sources: new Map(), uses: [], files: [], diagnostics: [], top: file };
  const layer = loadFile(file, ctx, [file], undefined, text);
  return { ...(layer ? { layer } : {}), uses: dedupe(ctx.uses), sources: ctx.sources, files: ctx.files, diagnostics: ctx.diagnostics };
}

function loadFile(file: string, ctx: Ctx, stack: string[], via: Range | undefined, given?: string): Layer | undefined {
  const text = given ?? readSpec(file, ctx, via);
  if (text === undefined) return undefined;
  ctx.sources.set(file, text);
  const lexed = tokenize(text, file);
  const parsed = parseTokens(lexed.tokens, file);
  const syntax = [...lexed.diagnostics, ...parsed.diagnostics];
  ctx.diagnostics.push(...syntax);
  // After syntax errors the tree is partial: schema errors on it would be noise.
  if (hasErrors(syntax)) return undefined;
  const ast = parsed.ast;
  if (!checkShape(ast, file, ctx)) return undefined;

  const conversion: Diagnostic[] = [];
  const own = modelToJson(ast, conversion)!;
  ctx.diagnostics.push(...conversion);
  if (hasErrors(conversion)) return undefined;
  const ext = ast.extends[0];
  let base: Layer | undefined;
  if (ext) {
    const target = path.resolve(path.dirname(file), ext.path.value);
    const at = stack.indexOf(target);
    if (at >= 0) {
      const chain = [...stack.slice(at), target].map((f) => show(f, ctx));
      ctx.diagnostics.push(error(CODES.extendsCycle, `extends cycle: ${chain.join(' -> ')}`, ext.path.range, ['a spec cannot extend itself, directly or through other files']));
      return undefined;
    }
    base = loadFile(target, ctx, [...stack, target], ext.path.range);
    if (!base) return undefined;
  }
  for (const u of ast.uses) ctx.uses.push({ specifier: u.module.value, module: resolveModule(u.module.value, file), range: u.module.range });
  ctx.files.push(file);
  return base ? mergeLayers(base, own, ctx.diagnostics) : finishRootLayer(own, ctx.diagnostics);
}

/** Exactly one model, at most one extends. */
function checkShape(ast: SpecFile, file: string, ctx: Ctx): boolean {
  let ok = true;
  if (ast.models.length === 0) {
    const start = { line: 1, col: 1, offset: 0 };
    ctx.diagnostics.push(error(CODES.modelCount, 'no model in this file: a spec declares one `model "name" { ... }`', { file, start, end: start }));
    ok = false;
  }
  for (const extra of ast.models.slice(1)) {
    ctx.diagnostics.push(error(CODES.modelCount, 'a spec file declares exactly one model: move this one to its own file (it can `extends` the other)', extra.name.range));
    ok = false;
  }
  for (const extra of ast.extends.slice(1)) {
    ctx.diagnostics.push(error(CODES.duplicateExtends, 'a spec extends at most one other spec (chain them: a extends b, b extends c)', extra.range));
    ok = false;
  }
  return ok;
}

function readSpec(file: string, ctx: Ctx, via: Range | undefined): string | undefined {
  const fail = (why: string) => {
    ctx.diagnostics.push({ ...error(CODES.readFile, `cannot read spec '${show(file, ctx)}': ${why}`, via), ...(via ? {} : { file }) });
    return undefined;
  };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message);
  }
  if (stat.isDirectory()) return fail('it is a directory');
  if (!stat.isFile()) return fail('it is not a regular file');
  // An extended file must be a spec: any other file would be echoed back in syntax errors.
  if (via && !/\.punet$/i.test(file)) {
    ctx.diagnostics.push(error(CODES.readFile, `extends must name a .punet spec file, not '${show(file, ctx)}'`, via));
    return undefined;
  }
  if (stat.size > MAX_SPEC_BYTES) return fail(`${stat.size} bytes is too large for a spec (limit ${MAX_SPEC_BYTES})`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** Relative module paths resolve against the spec's folder; package names stay as written. */
export function resolveModule(specifier: string, specFile: string): string {
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..') {
    return path.resolve(path.dirname(specFile), specifier);
  }
  return specifier;
}

/** File names in messages are relative to the folder of the file being checked. */
function show(file: string, ctx: Ctx): string {
  const rel = path.relative(path.dirname(ctx.top), file);
  return rel === '' ? path.basename(file) : rel;
}

function dedupe(uses: UseRef[]): UseRef[] {
  const seen = new Set<string>();
  return uses.filter((u) => !seen.has(u.module) && seen.add(u.module));
}
