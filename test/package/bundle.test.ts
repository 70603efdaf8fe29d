/**
 * The offline bundle (`npm run bundle`, scripts/bundle.mjs): built into a temporary folder with no
 * node_modules anywhere above it, then run with a bare `node`: --version, check on a good and a
 * bad spec, compile-and-train for 2 steps on the wasm backend (its .wasm files must come from the
 * bundle), and the library entry point.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TINY_SPEC, ensureDist, tempDir } from '../cli/helpers.js';

let dir: string;
let bundle: string;

function node(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, PUNET_WASM_THREADS: '1' };
  delete env.NODE_PATH;
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function bytesUnder(folder: string): number {
  return readdirSync(folder, { recursive: true }).reduce((n, f) => {
    const s = statSync(join(folder, String(f)));
    return n + (s.isFile() ? s.size : 0);
  }, 0);
}

beforeAll(() => {
  ensureDist();
  dir = tempDir('punet-bundle-');
  bundle = join(dir, 'punet');
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs'), bundle], { cwd: dir, stdio: 'pipe' });
  copyFileSync(TINY_SPEC, join(dir, 'tiny.punet'));
  writeFileSync(join(dir, 'bad.punet'), readFileSync(TINY_SPEC, 'utf8').replace('latent gaussian', 'latent gausian'));
}, 180_000);

describe('the offline bundle', () => {
  it('is a few files within 60 MiB, with the wasm binaries, and nothing above it has node_modules', () => {
    for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    const top = readdirSync(bundle);
    for (const f of ['punet.js', 'compile-and-train.js', 'index.js', 'tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) expect(top).toContain(f);
    expect(top.filter((f) => f.endsWith('.js'))).toHaveLength(3);
    if (existsSync(join(ROOT, 'node_modules/webgpu/dist/linux-x64/dawn.node'))) expect(existsSync(join(bundle, 'dist/linux-x64/dawn.node'))).toBe(true);
    expect(bytesUnder(bundle)).toBeLessThanOrEqual(60 * 2 ** 20);
  });

  it('punet --version and check run with a bare node: exit 0 on a good spec, 1 on a bad one', () => {
    const version = node([join(bundle, 'punet.js'), '--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    const good = node([join(bundle, 'punet.js'), 'check', 'tiny.punet']);
    expect(good.code, good.stderr).toBe(0);
    const bad = node([join(bundle, 'punet.js'), 'check', 'bad.punet']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.punet:8:\d+: error .*gausian/);
  });

  it('compile-and-train trains 2 steps on wasm from the bundle, and the library loads the run', () => {
    const r = node([join(bundle, 'compile-and-train.js'), 'tiny.punet', '--steps', '2', '--backend', 'wasm', '--out', 'run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend: wasm/);
    expect(existsSync(join(dir, 'run/eval.json'))).toBe(true);
    writeFileSync(
      join(dir, 'use.mjs'),
      "const { loadRun } = await import('./punet/index.js');\nconst m = await loadRun('run', { checkpoint: 'last', backend: 'cpu' });\nconsole.log(m.step, (await m.sample(new Float32Array(256), 2))[0].masks.length);\n",
    );
    const lib = node(['use.mjs']);
    expect(lib.code, lib.stderr).toBe(0);
    expect(lib.stdout.trim().split('\n').at(-1)).toBe('2 2');
  });
});
