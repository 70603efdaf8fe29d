/** Shared helpers for the spec front end tests. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostics, type Diagnostic } from '../../spec/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = path.join(ROOT, 'examples');
export const CASES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases');

/** Diagnostics as the CLI prints them, with paths relative to `dir` (stable across machines). */
export function render(diagnostics: Diagnostic[], sources: Map<string, string>, dir: string): string {
  return formatDiagnostics(diagnostics, { sources, displayPath: (f) => path.relative(dir, f) || path.basename(f) });
}
