// Kernel fixes and error reporting of runtime/backends/webgpu*.ts, against hand-computed values.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { acquireWebGPU, onBackend } from './support/webgpu-env.js';
import { clearWebGPUErrors, webgpuErrors } from '../../runtime/backends/webgpu.js';
import { formatAdapter, isSoftwareAdapter } from '../../runtime/backends/webgpu-adapter.js';

const gpu = await acquireWebGPU();

describe('software adapter detection (no GPU needed)', () => {
  it('recognises lavapipe, SwiftShader and fallback adapters, not hardware ones', () => {
    expect(isSoftwareAdapter({ architecture: 'software', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080' })).toBe(false);
    expect(isSoftwareAdapter({ architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' })).toBe(false);
    expect(isSoftwareAdapter({ architecture: 'rdna-2', description: 'AMD Radeon RX 6800 (RADV NAVI21)' })).toBe(false);
  });

  it('formats the adapter for the backend line', () => {
    expect(formatAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe', isSoftware: true })).toBe(
      'mesa software (llvmpipe), software adapter',
    );
    expect(formatAdapter({ vendor: 'nvidia', architecture: '', description: '', isSoftware: false })).toBe('nvidia');
  });
});

describe.skipIf(!gpu.available)('webgpu kernel fixes', () => {
  it('tf.addN of 40 tensors (more than one shader can bind) sums them all', async () => {
    const got = await onBackend('webgpu', async () => {
      const terms = Array.from({ length: 40 }, (_, i) => tf.fill([3, 5], i + 1));
      const sum = tf.addN(terms);
      const values = Array.from(await sum.data());
      tf.dispose([...terms, sum]);
      return values;
    });
    // 1 + 2 + ... + 40 = 40 * 41 / 2
    expect(got).toEqual(new Array(15).fill(820));
    expect(webgpuErrors()).toEqual([]);
  });

  it('tf.addN with 7, 8 and 15 inputs (around the chunk size)', async () => {
    for (const n of [7, 8, 15]) {
      const got = await onBackend('webgpu', async () => {
        const terms = Array.from({ length: n }, (_, i) => tf.fill([2, 2], 2 ** i));
        const sum = tf.addN(terms);
        const values = Array.from(await sum.data());
        tf.dispose([...terms, sum]);
        return values;
      });
      expect(got).toEqual(new Array(4).fill(2 ** n - 1));
    }
  });

  it('records WebGPU validation errors instead of letting them pass silently', async () => {
    await onBackend('webgpu', async () => {
      const device = (tf.backend() as unknown as { device: { createBuffer(d: object): { destroy(): void } } }).device;
      clearWebGPUErrors();
      const before = 0;
      // MAP_READ may only be combined with COPY_DST: a validation error, reported asynchronously.
      const g = globalThis as unknown as { GPUBufferUsage: Record<string, number> };
      device.createBuffer({ size: 16, usage: g.GPUBufferUsage['MAP_READ']! | g.GPUBufferUsage['STORAGE']! });
      const t = tf.add(tf.ones([4]), 1);
      await t.data(); // lets Dawn deliver its events
      t.dispose();
      for (let i = 0; i < 20 && webgpuErrors().length === before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(webgpuErrors().length).toBe(before + 1);
      expect(webgpuErrors().at(-1)).toMatch(/usage/i);
      // The deliberate error must not fail later checks in this process.
      clearWebGPUErrors();
    });
  });
});
