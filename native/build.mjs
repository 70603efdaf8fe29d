#!/usr/bin/env node
// Builds the optional native kernels (oneDNN) during `npm ci` / `npm run build:native`.
// Never fails the install: without libdnnl-dev or a C++ toolchain it says so in one line and punet
// runs its kernels in wasm, as before. PUNET_NATIVE=0 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = join(here, 'build', 'Release', 'punet_dnnl.node');
const log = join(here, 'build.log');
const say = (line) => process.stdout.write(`punet native kernels: ${line}\n`);
const giveUp = (why) => {
  say(`not built (${why}); punet runs every kernel in wasm. To build: apt-get install libdnnl-dev g++ make python3, then npm run build:native`);
  process.exit(0);
};

if (process.env.PUNET_NATIVE === '0') giveUp('PUNET_NATIVE=0');
if (process.platform !== 'linux' || process.arch !== 'x64') giveUp(`only built on linux x64, this is ${process.platform} ${process.arch}`);
if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) giveUp('libdnnl-dev not installed: /usr/include/oneapi/dnnl/dnnl.hpp missing');

// npm passes its own node-gyp to lifecycle scripts; otherwise use the one npm ships.
const nodeGyp = [process.env.npm_config_node_gyp, resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')]
  .find((p) => p && existsSync(p));
if (!nodeGyp) giveUp('node-gyp not found (it comes with npm)');

// Node's headers: those installed next to this node (Debian/NodeSource packages), else node-gyp's
// cache (which it would fill from nodejs.org: not reachable on every machine).
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodedir], { cwd: here, encoding: 'utf8' });
writeFileSync(log, `${build.stdout ?? ''}${build.stderr ?? ''}${build.error ? String(build.error) : ''}`);
if (build.status !== 0 || !existsSync(addon)) {
  const last = `${build.stderr ?? ''}`.split('\n').filter((l) => /error/i.test(l)).slice(-1)[0]?.trim();
  giveUp(`node-gyp failed${last ? `: ${last}` : ''}; full log in ${log}`);
}

// Load it once in a fresh process, so a library missing at run time shows up now.
const check = spawnSync(process.execPath, ['-e', `const s = require(${JSON.stringify(addon)}).stats(); console.log(s.version)`], { encoding: 'utf8' });
if (check.status !== 0) giveUp(`built but does not load: ${(check.stderr || '').split('\n').find((l) => l.trim()) ?? 'unknown error'}`);
say(`built ${addon} (oneDNN ${check.stdout.trim()})`);
