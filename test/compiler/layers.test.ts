/**
 * Layering: compiler/ and spec/ are the bottom layers and must not import from runtime/ (the
 * CLI, backends, data loading, run folders). Scans every import/export-from line and dynamic
 * import() of every .ts file under them, so a new dependency is caught where it is written.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Module specifiers of static imports/re-exports and dynamic import() calls (type-only ones too). */
export function importedModules(source: string): string[] {
  const found: string[] = [];
  const patterns = [/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gms, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*(?:\/\*.*?\*\/\s*)?['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1]!);
  return found;
}

describe('layering', () => {
  it('finds static, type-only, re-export, side-effect and dynamic imports (the scanner itself)', () => {
    const source = [
      "import { a } from '../runtime/a.js';",
      "import type {\n  B,\n} from '../runtime/b.js';",
      "export { c } from '../runtime/c.js';",
      "import '../runtime/d.js';",
      "const e = await import('../runtime/e.js');",
      "// from '../runtime/not-an-import.js' in prose",
    ].join('\n');
    expect(importedModules(source)).toEqual(['../runtime/a.js', '../runtime/b.js', '../runtime/c.js', '../runtime/d.js', '../runtime/e.js']);
  });

  it('no file under compiler/ or spec/ imports from runtime/', () => {
    const runtime = resolve(ROOT, 'runtime');
    const offenders: string[] = [];
    for (const layer of ['compiler', 'spec']) {
      for (const file of tsFiles(join(ROOT, layer))) {
        for (const spec of importedModules(readFileSync(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue;
          const target = resolve(dirname(file), spec);
          if (target === runtime || target.startsWith(runtime + '/')) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
