/**
 * Robustness: thousands of seeded random mutations of the example specs (token deletion,
 * duplication, swaps, random bytes, truncation, huge numbers, deep nesting, empty and binary
 * files) must never throw out of checkSource, must end in a resolved spec or at least one
 * error, must never hit the internal-error fallback, and must each finish within a time bound.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource, formatDiagnostics, hasErrors, type Diagnostic } from '../../spec/index.js';
import { tokenize } from '../../spec/lexer.js';
import { createRegistry } from '../../plugins/index.js';
import { EXAMPLES } from './helpers.js';
import { createRandom } from '../../runtime/data/synthetic.js';

/** A seeded PRNG (the project's mulberry32) so a failing mutation can be replayed from its seed. */
function rng(seed: number): () => number {
  return createRandom(seed).next;
}

const examples = ['prob-unet-lidc.punet', 'prob-unet-tiny.punet', 'hierarchical.punet'].map((name) => {
  const file = path.join(EXAMPLES, name);
  const text = fs.readFileSync(file, 'utf8');
  const spans = tokenize(text, file).tokens.map((t) => [t.startOffset, t.endOffset! + 1] as const);
  return { file, text, spans };
});

type Mutation = (text: string, spans: readonly (readonly [number, number])[], r: () => number) => string;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

const MUTATIONS: Record<string, Mutation> = {
  deleteToken: (t, s, r) => {
    const [a, b] = pick(s, r);
    return t.slice(0, a) + t.slice(b);
  },
  duplicateToken: (t, s, r) => {
    const [a, b] = pick(s, r);
    return t.slice(0, b) + ' ' + t.slice(a, b) + t.slice(b);
  },
  swapTokens: (t, s, r) => {
    let [x, y] = [pick(s, r), pick(s, r)];
    if (x[0] > y[0]) [x, y] = [y, x];
    if (x[1] > y[0]) return t;
    return t.slice(0, x[0]) + t.slice(y[0], y[1]) + t.slice(x[1], y[0]) + t.slice(x[0], x[1]) + t.slice(y[1]);
  },
  randomBytes: (t, _s, r) => {
    const at = Math.floor(r() * t.length);
    const bytes = Array.from({ length: 1 + Math.floor(r() * 8) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
    return t.slice(0, at) + bytes + t.slice(at);
  },
  truncate: (t, _s, r) => t.slice(0, Math.floor(r() * t.length)),
  hugeNumber: (t, s, r) => {
    const [a, b] = pick(s, r);
    return t.slice(0, a) + pick(['9'.repeat(400), '1e308', '1e309', '-1e999', '0.0000000000000000000001', '99999999999999999999k'], r) + t.slice(b);
  },
  deepNesting: (t, _s, r) => {
    const depth = pick([10, 70, 5000], r);
    const at = t.lastIndexOf('}');
    return t.slice(0, at) + 'x ' + '{ y '.repeat(depth) + '}'.repeat(depth) + t.slice(at);
  },
  deepList: (t, _s, r) => {
    const depth = pick([10, 70, 5000], r);
    return t.replace('samples:', `samples: ${'['.repeat(depth)}1${']'.repeat(depth)} ignored:`);
  },
  manyMutations: (t, s, r) => {
    let out = t;
    for (let i = 0; i < 5; i++) out = pick([MUTATIONS.deleteToken!, MUTATIONS.duplicateToken!, MUTATIONS.randomBytes!], r)(out, s, r);
    return out;
  },
};

const TIME_BOUND_MS = 5000; // a typical case takes a few ms; the margin absorbs GC pauses on a loaded 2-core machine

function checkNeverThrows(text: string, file: string, label: string, boundMs = TIME_BOUND_MS): Diagnostic[] {
  const registry = sharedRegistry;
  const t0 = performance.now();
  let result: ReturnType<typeof checkSource>;
  try {
    result = checkSource(text, file, registry);
  } catch (e) {
    throw new Error(`${label}: checkSource threw ${(e as Error).stack}`);
  }
  const ms = performance.now() - t0;
  expect(ms, `${label}: took ${ms.toFixed(0)} ms`).toBeLessThan(boundMs);
  const internal = result.diagnostics.filter((d) => d.code === 'E000' || d.code === 'E499');
  expect(internal, `${label}: internal error ${internal[0]?.message}`).toEqual([]);
  // Either a spec came out, or there is at least one error saying why not.
  expect(result.spec !== undefined || hasErrors(result.diagnostics), label).toBe(true);
  for (const d of result.diagnostics) {
    if (!d.range) continue;
    expect(d.range.start.line, label).toBeGreaterThanOrEqual(1);
    expect(d.range.start.col, label).toBeGreaterThanOrEqual(1);
  }
  expect(() => formatDiagnostics(result.diagnostics, { sources: result.sources }), label).not.toThrow();
  return result.diagnostics;
}

const sharedRegistry = createRegistry();

describe('robustness', () => {
  it('survives 3000 seeded mutations of the examples', () => {
    const names = Object.keys(MUTATIONS);
    const counts: Record<string, number> = {};
    let withErrors = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const ex = examples[seed % examples.length]!;
      const name = names[seed % names.length]!;
      counts[name] = (counts[name] ?? 0) + 1;
      const text = MUTATIONS[name]!(ex.text, ex.spans, r);
      const diags = checkNeverThrows(text, ex.file, `seed ${seed} (${name} of ${path.basename(ex.file)})`);
      if (hasErrors(diags)) withErrors++;
    }
    // The mutations really do break specs (otherwise this test would prove little).
    expect(withErrors).toBeGreaterThan(2000);
    expect(Object.values(counts).every((c) => c >= 300)).toBe(true);
  }, 120_000);

  it('handles empty, whitespace-only, binary and huge inputs', () => {
    const file = path.join(EXAMPLES, 'fuzz.punet');
    const r = rng(7);
    const binary = Array.from({ length: 4096 }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
    const inputs: Record<string, string> = {
      empty: '',
      whitespace: ' \n\t\r\n  ',
      nul: '\0\0\0',
      binary,
      bom: '\uFEFFmodel "x" { }',
      longLine: 'model "x" { a: ' + '1'.repeat(100_000) + ' }',
      manyFields: 'model "x" {\n' + Array.from({ length: 5000 }, (_, i) => `f${i}: ${i}`).join('\n') + '\n}',
      manyErrors: Array.from({ length: 5000 }, () => '@ } ] :').join('\n'),
    };
    for (const [name, text] of Object.entries(inputs)) {
      // Extreme sizes (100k-character line, 5000 fields, 20k junk tokens) get a looser bound.
      const diags = checkNeverThrows(text, file, name, 5 * TIME_BOUND_MS);
      expect(hasErrors(diags), name).toBe(true);
    }
  });
});
