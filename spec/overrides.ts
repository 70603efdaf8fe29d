/**
 * Command-line overrides: `--set train.optimizer.lr=1e-3` changes one value of a spec as if the
 * spec had a variant file extending it that sets that value. The value is written in .punet
 * syntax (numbers with units, sizes, lists, names, strings), goes through the same merge, schema
 * and semantic checks as the file, and errors point into the override itself: each override is a
 * pseudo-file named `--set PATH=VALUE` whose only line is `PATH=VALUE`.
 */
import type { Range } from './ast.js';
import { CODES, error, type Diagnostic } from './diagnostics.js';
import { tokenize } from './lexer.js';
import { mergeLayers } from './merge.js';
import { parseValueTokens } from './parser.js';
import { pointer } from './pointer.js';
import { unitOf, valueToJson, type JsonObject, type Layer, type Origins } from './to-json.js';

/** Keys set outside the model body (its header, `use` and `extends` lines). */
const NOT_OVERRIDABLE: Record<string, string> = {
  model: "the model's name is not a setting",
  use: 'plugins are loaded with `use` lines or --plugin',
  extends: 'the base spec is chosen by the file',
};

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longer overrides are refused (they are single values, not files). */
const MAX_OVERRIDE_CHARS = 10_000;

export interface AppliedOverrides {
  layer: Layer;
  diagnostics: Diagnostic[];
  /** Pseudo-file name -> text, for printing diagnostics. */
  sources: Map<string, string>;
}

/** The pseudo-file an override's diagnostics name. */
function overrideFile(text: string): string {
  return `--set ${text}`;
}

/** Applies overrides in order (a later one wins) over a merged spec layer. */
export function applyOverrideTexts(base: Layer, texts: readonly string[]): AppliedOverrides {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  let layer = base;
  for (const text of texts) {
    const file = overrideFile(text);
    sources.set(file, text);
    const over = parseOverride(text, file, layer.value, diagnostics);
    if (over) layer = withIntermediateOrigins(mergeLayers(layer, over.layer, diagnostics), over.intermediates);
  }
  return { layer, diagnostics, sources };
}

interface ParsedOverride {
  layer: Layer;
  /** Origins for sections the override creates (only used where the spec has none). */
  intermediates: Origins;
}

function parseOverride(text: string, file: string, current: JsonObject, diagnostics: Diagnostic[]): ParsedOverride | undefined {
  const at = (startCol: number, endCol: number): Range => ({
    file,
    start: { line: 1, col: startCol, offset: startCol - 1 },
    end: { line: 1, col: endCol, offset: endCol - 1 },
  });
  const fail = (message: string, range: Range, notes?: string[]) => {
    diagnostics.push(error(CODES.syntax, message, range, notes));
    return undefined;
  };
  if (text.length > MAX_OVERRIDE_CHARS) return fail(`an override is one value: this one is ${text.length} characters (limit ${MAX_OVERRIDE_CHARS})`, at(1, 2));
  if (/[\r\n]/.test(text)) return fail('an override is one line: PATH=VALUE', at(1, 2));
  const eq = text.indexOf('=');
  if (eq < 0) return fail(`expected PATH=VALUE, e.g. train.optimizer.lr=1e-3`, at(1, text.length + 1));
  const rawPath = text.slice(0, eq);
  const segments = rawPath.split('.');
  const segRanges: Range[] = [];
  let col = 1;
  for (const seg of segments) {
    const range = at(col, col + Math.max(seg.length, 1));
    if (!SEGMENT.test(seg)) return fail(`'${rawPath}' is not a path: write keys separated by dots, e.g. train.optimizer.lr`, range);
    segRanges.push(range);
    col += seg.length + 1;
  }
  const why = NOT_OVERRIDABLE[segments[0]!];
  if (why) return fail(`'${segments[0]}' cannot be overridden: ${why}`, segRanges[0]!);

  // Keep the value's columns: lex it behind spaces standing for `PATH=`.
  const lexed = tokenize(' '.repeat(eq + 1) + text.slice(eq + 1), file);
  if (lexed.diagnostics.length) {
    diagnostics.push(...lexed.diagnostics);
    return undefined;
  }
  if (!lexed.tokens.length) return fail(`no value after '=': write e.g. ${rawPath}=1`, at(eq + 2, eq + 3));
  const parsed = parseValueTokens(lexed.tokens, file);
  if (!parsed.value) {
    diagnostics.push(...parsed.diagnostics);
    return undefined;
  }
  const node = parsed.value;
  const origins: Origins = new Map();
  const ptr = pointer(segments);
  const unit = unitOf(node);
  let value = valueToJson(node, segments, origins, diagnostics);
  origins.set(ptr, { range: node.range, keyRange: segRanges.at(-1)!, ...(unit ? { unit } : {}) });
  // A name given for a block (`latent=hierarchical-gaussian`) switches its kind, as `latent hierarchical-gaussian` would.
  const old = lookup(current, segments);
  if ((node.type === 'ident' || node.type === 'string') && isObject(old) && typeof old.kind === 'string') {
    value = { kind: value };
    origins.set(pointer([...segments, 'kind']), { range: node.range, keyRange: node.range });
  }
  const intermediates: Origins = new Map();
  for (let i = 1; i < segments.length; i++) intermediates.set(pointer(segments.slice(0, i)), { range: segRanges[i - 1]!, keyRange: segRanges[i - 1]! });
  let nested: unknown = value;
  for (let i = segments.length - 1; i >= 0; i--) nested = { [segments[i]!]: nested };
  return { layer: { value: nested as JsonObject, origins }, intermediates };
}

function withIntermediateOrigins(layer: Layer, intermediates: Origins): Layer {
  for (const [p, o] of intermediates) if (!layer.origins.has(p)) layer.origins.set(p, o);
  return layer;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function lookup(value: JsonObject, segments: string[]): unknown {
  let v: unknown = value;
  for (const s of segments) v = isObject(v) ? v[s] : undefined;
  return v;
}
