/** Backend selection: forced cpu/wasm work and report; a forced backend that cannot load is a clear UserError. */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { describeImportFailure, selectBackend } from '../../runtime/backends/select.js';
import { UserError } from '../../runtime/cli/errors.js';

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('selectBackend', () => {
  afterEach(async () => {
    await tf.setBackend('cpu');
  });

  it('forced cpu selects cpu and reports it', async () => {
    const sel = await selectBackend('cpu');
    expect(sel).toMatchObject({ name: 'cpu', reason: 'requested', report: 'backend: cpu' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('forced wasm selects wasm, with the training kernels registered, and computes', async () => {
    const sel = await selectBackend('wasm');
    expect(sel).toMatchObject({ name: 'wasm', reason: 'requested' });
    expect(sel.report).toMatch(/^backend: wasm \(\d+ threads?, set PUNET_WASM_THREADS to change; native (oneDNN [\d.]+ \S+ \((?:punet's Winograd 3x3, (?:AVX-512|8-lane)|oneDNN's Winograd 3x3|no Winograd)\) on \d+ threads?|kernels off: .+)\)$/);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    // 1 + 2 + ... + 4 computed on wasm
    expect(tf.tidy(() => tf.sum(tf.range(1, 5)).dataSync()[0])).toBe(10);
    // selecting again is harmless (setWasmPaths must not be called twice)
    expect((await selectBackend('wasm')).name).toBe('wasm');
  });

  it.skipIf(installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu'))(
    'forced tensorflow without tfjs-node installed: a UserError naming the packages and the fix',
    async () => {
      const err = await selectBackend('tensorflow', { source: '--backend tensorflow' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      const message = (err as UserError).message;
      expect(message).toContain('@tensorflow/tfjs-node-gpu not installed');
      expect(message).toContain('@tensorflow/tfjs-node not installed');
      expect(message).toMatch(/Fix: install @tensorflow\/tfjs-node/);
      expect(message).not.toMatch(/\n\s+at /); // no stack trace in the message
    },
  );

  it('a package that is present but fails to load is reported with the first line of its error', async () => {
    const broken = async (specifier: string) => {
      if (specifier === '@tensorflow/tfjs-node-gpu') {
        throw Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
      }
      throw new Error('libtensorflow.so.2: cannot open shared object file\n    at Module._extensions..node');
    };
    const err = await selectBackend('tensorflow', { importModule: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain(
      '@tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node failed to load: libtensorflow.so.2: cannot open shared object file',
    );
  });

  it('auto skips what is missing and says why, in one line', async () => {
    const missing = async (specifier: string) => {
      throw Object.assign(new Error(`Cannot find package '${specifier}' imported from x`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const sel = await selectBackend('auto', { importModule: missing });
    expect(sel.report.split('\n')).toHaveLength(1);
    expect(sel.report).toMatch(
      /^backend: (webgpu|wasm) \(.*tensorflow skipped: @tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed/,
    );
    if (sel.name === 'wasm') expect(sel.report).toMatch(/webgpu skipped: [^;)]+/);
    expect(tf.getBackend()).toBe(sel.name);
  });

  it('an unknown backend name is a UserError listing the choices', async () => {
    const err = await selectBackend('gpu' as never, { source: 'training.backend in lidc.punet' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain("unknown backend 'gpu' (training.backend in lidc.punet): choose one of auto, tensorflow, webgpu, wasm, cpu");
  });
});

describe('describeImportFailure', () => {
  it('tells a missing package from a nested missing module', () => {
    const nested = Object.assign(new Error("Cannot find module 'node-pre-gyp' from '@tensorflow/tfjs-node'"), { code: 'MODULE_NOT_FOUND' });
    expect(describeImportFailure('@tensorflow/tfjs-node-gpu', nested)).toBe(
      "@tensorflow/tfjs-node-gpu failed to load: Cannot find module 'node-pre-gyp' from '@tensorflow/tfjs-node'",
    );
    const missing = Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node' imported from /a/b.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(describeImportFailure('@tensorflow/tfjs-node', missing)).toBe('@tensorflow/tfjs-node not installed');
  });
});
