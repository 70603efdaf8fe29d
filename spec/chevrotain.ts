/**
 * chevrotain, loaded from its single-file bundle.
 *
 * The package's `exports` point at its unbundled ESM build, which imports several hundred
 * lodash-es modules: ~200 ms of `punet check`'s cold start on its own. The same release ships
 * `lib/chevrotain.min.mjs`, one file (faster still to parse); it is loaded by path, falling back to the package entry if a
 * future release moves it. Types still come from the package.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

async function load(): Promise<typeof Chevrotain> {
  try {
    const entry = createRequire(import.meta.url).resolve('chevrotain'); // .../chevrotain/lib/src/api.js
    for (const name of ['chevrotain.min.mjs', 'chevrotain.mjs']) {
      const bundle = path.join(path.dirname(entry), '..', name);
      if (fs.existsSync(bundle)) return (await import(pathToFileURL(bundle).href)) as typeof Chevrotain;
    }
  } catch {
    // fall through to the package entry
  }
  return import('chevrotain');
}

export const chevrotain: typeof Chevrotain = await load();
