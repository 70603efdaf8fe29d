#!/usr/bin/env node
/**
 * `npm run bundle`: punet as one folder that runs with a bare `node` (>= 20) and no node_modules,
 * for cluster nodes without internet (copy the folder, run `node bundle/punet.js ...`).
 *
 *   bundle/punet.js, compile-and-train.js   the two executables
 *   bundle/index.js                         the library (import { loadRun } from './bundle/index.js')
 *   bundle/*.wasm                           tfjs-backend-wasm's binaries
 *   bundle/dist/linux-x64/dawn.node         webgpu's Dawn binary (where the webgpu package looks for it)
 *   bundle/native/build/Release/*.node      punet's oneDNN addon, if built (runtime/backends/native.ts looks there)
 *
 * Built from dist/ (run `npm run build` first; `npm run bundle` does). Linux x64 binaries only.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'bundle');
const LIMIT_MIB = 60;
const PLATFORM = 'linux-x64';

/**
 * Folders holding punet's own native addons (*.node). Each is copied to the same path inside the
 * bundle (native/build/Release/punet_dnnl.node), where runtime/backends/native.ts finds it from
 * the bundle root as it does from the package root.
 */
const NATIVE_ADDONS = ['native'];

/**
 * Source rewrites that make lazily loaded modules visible to the bundler. Each must match
 * exactly once, so a change in the source fails the build instead of a missing module at run time.
 */
const REWRITES = [
  // A variable specifier keeps optional modules out of tsc's way; the bundle includes them.
  { file: 'dist/runtime/backends/select.js', from: 'mod = (await import(specifier))', to: "mod = (await import('./webgpu.js'))" },
  { file: 'dist/runtime/backends/webgpu.js', from: 'const mod = (await import(specifier))', to: "const mod = (await import('webgpu'))" },
  // ajv is required lazily through createRequire, which cannot see into the bundle.
  { file: 'dist/spec/schema.js', from: 'const require = createRequire(import.meta.url);', to: '' },
];

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

const rewritePlugin = {
  name: 'punet-rewrites',
  setup(build) {
    for (const r of REWRITES) {
      const path = join(ROOT, r.file);
      build.onLoad({ filter: new RegExp(`${r.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) }, () => {
        const source = readFileSync(path, 'utf8');
        const hits = source.split(r.from).length - 1;
        if (hits !== 1) throw new Error(`bundle: expected one '${r.from}' in ${r.file}, found ${hits}; update REWRITES in scripts/bundle.mjs`);
        return { contents: source.replace(r.from, r.to), loader: 'js', resolveDir: dirname(path) };
      });
    }
  },
};

function filesUnder(dir, match) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => match(f) && statSync(f).isFile());
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function folderBytes(dir) {
  return filesUnder(dir, () => true).reduce((n, f) => n + statSync(f).size, 0);
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/runtime/cli/bin/punet.js'))) throw new Error('bundle: dist/ is not built; run `npm run build` first');
  rmSync(OUT, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: {
      punet: 'dist/runtime/cli/bin/punet.js',
      'compile-and-train': 'dist/runtime/cli/bin/compile-and-train.js',
      index: 'dist/index.js',
    },
    outdir: OUT,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Identifiers keep their names: runtime/backends/wasm-threads.ts hands tfjs-backend-wasm's
    // glue to worker threads as text, with the bundle-scope names it uses (require$$0, ...).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    // tfjs-node-gpu needs libtensorflow and its own native build: not for an offline folder.
    external: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
    define: { __PUNET_VERSION__: JSON.stringify(version) },
    // CommonJS dependencies call require() and read __dirname; give every chunk Node's.
    banner: {
      js: [
        "import { createRequire as __punetCreateRequire } from 'node:module';",
        "import { fileURLToPath as __punetFileURLToPath } from 'node:url';",
        'const require = __punetCreateRequire(import.meta.url);',
        'const __filename = __punetFileURLToPath(import.meta.url);',
        "const __dirname = __punetFileURLToPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
    plugins: [rewritePlugin],
  });
  const chmod = (await import('node:fs')).chmodSync;
  for (const bin of ['punet.js', 'compile-and-train.js']) {
    const file = join(OUT, bin);
    const code = readFileSync(file, 'utf8').replace(/^#!.*\n/, '');
    writeFileSync(file, `#!/usr/bin/env node\n${code}`);
    chmod(file, 0o755);
  }

  // Binaries the bundled code loads from beside itself.
  for (const wasm of filesUnder(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), (f) => f.endsWith('.wasm'))) {
    copy(wasm, join(OUT, relative(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), wasm)));
  }
  const dawn = join(ROOT, 'node_modules/webgpu/dist', PLATFORM, 'dawn.node');
  if (existsSync(dawn)) copy(dawn, join(OUT, 'dist', PLATFORM, 'dawn.node'));
  const natives = [];
  for (const folder of NATIVE_ADDONS) {
    for (const addon of filesUnder(join(ROOT, folder), (f) => f.endsWith('.node'))) {
      const to = join(OUT, 'native', relative(join(ROOT, folder), addon));
      copy(addon, to);
      natives.push(relative(OUT, to));
    }
  }
  writeFileSync(join(OUT, 'package.json'), JSON.stringify({ name: 'punet-bundle', version, type: 'module', private: true }, null, 2) + '\n');
  writeFileSync(
    join(OUT, 'README.txt'),
    `punet ${version}, bundled for ${PLATFORM} (Node.js >= 20; no npm install needed)\n\n` +
      '  node punet.js --help\n  node compile-and-train.js SPEC --steps N\n  node punet.js sample RUN\n\n' +
      `Backends: wasm and cpu${existsSync(dawn) ? ', webgpu (Dawn)' : ''}. Library: import { loadRun } from './index.js'.\n`,
  );

  const mib = folderBytes(OUT) / 2 ** 20;
  const warnings = result.warnings.length;
  console.log(`bundle: ${relative(process.cwd(), OUT) || OUT} ${mib.toFixed(1)} MiB (${readdirSync(OUT).length} entries; native addons: ${natives.join(', ') || 'none'}; ${warnings} esbuild warnings)`);
  if (mib > LIMIT_MIB) throw new Error(`bundle: ${mib.toFixed(1)} MiB is over the ${LIMIT_MIB} MiB limit`);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exitCode = 1;
});
