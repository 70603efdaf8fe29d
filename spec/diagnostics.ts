/**
 * Diagnostics: every problem found in a spec, with a code, a severity and (nearly always) a
 * source range; formatted as `file:line:col: error E301: message`, the source line and a caret
 * under the span, or as JSON for tools.
 */
import * as path from 'node:path';
import type { Range } from './ast.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Stable code, e.g. `E301`; the table is in docs/language.md. */
  code: string;
  severity: Severity;
  message: string;
  /** Where; absent only for problems with no file position (e.g. a missing top-level file). */
  range?: Range;
  /** The file concerned when there is no range. */
  file?: string;
  /** Extra lines: known names, hints, the extends chain. */
  notes?: string[];
}

/** Codes by stage. Kept in one place so docs and tests can list them. */
export const CODES = {
  // lexing
  unexpectedCharacter: 'E101',
  unterminatedString: 'E102',
  malformedNumber: 'E103',
  // parsing
  syntax: 'E201',
  duplicateKey: 'E202',
  modelCount: 'E203',
  duplicateExtends: 'E204',
  badUnit: 'E205',
  // schema
  unknownKind: 'E301',
  wrongRole: 'E302',
  unknownOption: 'E303',
  missing: 'E304',
  wrongType: 'E305',
  outOfRange: 'E306',
  notAllowed: 'E307',
  schemaOther: 'E308',
  unknownField: 'E309',
  unitMismatch: 'E310',
  // semantic (E401, E404, E405, W402, W403 are raised by the built-in plugins' own checks)
  classes: 'E403',
  steps: 'E408',
  requiredRole: 'E409',
  unknownMetric: 'E410',
  /** The same metric twice in eval.metrics (results are keyed by metric id). */
  duplicateMetric: 'E411',
  /** A plugin's own option check (`check(options, ctx)`), unless it names its code. */
  optionCheck: 'E412',
  /** The spec's estimated memory exceeds the limit (spec/budget.ts). */
  resourceBudget: 'E413',
  /** train.early_stop without validation to count. */
  earlyStop: 'E414',
  unusedRole: 'W401',
  optionWarning: 'W412',
  // files and extends
  readFile: 'E501',
  extendsCycle: 'E502',
  pluginLoad: 'E503',
  removeNothing: 'W501',
} as const;

export function error(code: string, message: string, range?: Range, notes?: string[]): Diagnostic {
  return { code, severity: 'error', message, ...(range ? { range } : {}), ...(notes?.length ? { notes } : {}) };
}

export function warning(code: string, message: string, range?: Range, notes?: string[]): Diagnostic {
  return { code, severity: 'warning', message, ...(range ? { range } : {}), ...(notes?.length ? { notes } : {}) };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorts by file, then position, keeping the order of diagnostics at the same place. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const fa = a.d.range?.file ?? a.d.file ?? '';
      const fb = b.d.range?.file ?? b.d.file ?? '';
      if (fa !== fb) return fa < fb ? -1 : 1;
      const oa = a.d.range?.start.offset ?? -1;
      const ob = b.d.range?.start.offset ?? -1;
      return oa - ob || a.i - b.i;
    })
    .map((x) => x.d);
}

export interface FormatOptions {
  /** file -> its text, to print the offending line. */
  sources: ReadonlyMap<string, string>;
  /** How to show a file path (default: relative to the current directory). */
  displayPath?: (file: string) => string;
}

export function defaultDisplayPath(file: string): string {
  if (!path.isAbsolute(file)) return file;
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Human-readable form: header line, source line, caret line, notes. */
export function formatDiagnostic(d: Diagnostic, opts: FormatOptions): string {
  const show = opts.displayPath ?? defaultDisplayPath;
  const file = d.range?.file ?? d.file;
  const where = file ? (d.range ? `${show(file)}:${d.range.start.line}:${d.range.start.col}` : show(file)) : 'punet';
  const lines = [`${where}: ${d.severity} ${d.code}: ${d.message}`];
  const text = file ? opts.sources.get(file) : undefined;
  if (d.range && text !== undefined) lines.push(...excerpt(text, d.range));
  for (const note of d.notes ?? []) lines.push(`  = ${note}`);
  return lines.join('\n');
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[], opts: FormatOptions): string {
  return diagnostics.map((d) => formatDiagnostic(d, opts)).join('\n\n');
}

/** The source line of the range's start, and a caret line under the span (clipped to that line). */
function excerpt(text: string, range: Range): string[] {
  const lineText = sourceLine(text, range.start.line);
  if (lineText === undefined) return [];
  const shown = printable(lineText);
  const gutter = String(range.start.line);
  const startCol = Math.min(range.start.col, shown.length + 1);
  const endCol = range.end.line === range.start.line ? Math.max(range.end.col, startCol + 1) : shown.length + 1;
  const width = Math.max(1, Math.min(endCol, shown.length + 1) - startCol);
  const pad = ' '.repeat(gutter.length);
  return [`  ${gutter} | ${shown}`, `  ${pad} | ${' '.repeat(startCol - 1)}${'^'.repeat(width)}`];
}

function sourceLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf('\n', start);
  const raw = text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
  // Very long lines (minified or binary input) are cut so a diagnostic stays readable.
  return raw.length > 200 ? raw.slice(0, 200) : raw;
}

/** Tabs and control characters become single spaces so the caret stays aligned. */
function printable(line: string): string {
  return line.replace(/[\t\x00-\x1f\x7f]/g, ' ');
}

/** The machine-readable form used by `punet check --json`. */
export interface JsonDiagnostic {
  file: string | null;
  line: number | null;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
  code: string;
  severity: Severity;
  message: string;
  notes: string[];
}

export function toJsonDiagnostic(d: Diagnostic, displayPath: (file: string) => string = defaultDisplayPath): JsonDiagnostic {
  const file = d.range?.file ?? d.file;
  return {
    file: file ? displayPath(file) : null,
    line: d.range?.start.line ?? null,
    column: d.range?.start.col ?? null,
    endLine: d.range?.end.line ?? null,
    endColumn: d.range?.end.col ?? null,
    code: d.code,
    severity: d.severity,
    message: d.message,
    notes: d.notes ?? [],
  };
}
