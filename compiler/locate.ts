/**
 * Maps a CompileError's JSON path back to the .punet source (file:line:col) through the front
 * end's path -> range table, and turns it into an ordinary diagnostic.
 */
import * as path from 'node:path';
import { loadChain } from '../spec/load.js';
import { pointer } from '../spec/pointer.js';
import type { Diagnostic } from '../spec/diagnostics.js';
import type { CompileError } from './errors.js';

/** Diagnostic code of errors found while compiling (after the spec checked clean). */
export const COMPILE_ERROR_CODE = 'E601';

export function compileErrorDiagnostic(err: CompileError, specFile: string): { diagnostic: Diagnostic; sources: Map<string, string> } {
  const file = path.resolve(specFile);
  const chain = loadChain(file);
  const origins = chain.layer?.origins;
  let segments = err.path.split('.').filter(Boolean);
  let range;
  // The nearest position we know: the option, else its block, else the model.
  while (origins && !range) {
    range = origins.get(pointer(segments))?.range;
    if (!segments.length) break;
    segments = segments.slice(0, -1);
  }
  const diagnostic: Diagnostic = {
    code: COMPILE_ERROR_CODE,
    severity: 'error',
    message: err.message,
    ...(range ? { range } : { file }),
  };
  return { diagnostic, sources: chain.sources };
}
