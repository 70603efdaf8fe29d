/**
 * Signals during native kernels. oneDNN's AVX-512 sgemm points the stack pointer into the heap
 * while it runs, so a signal handled on that thread wrote its frame over heap memory (oneDNN issue
 * #4845): under `node --cpu-prof` (SIGPROF every 100 us here) the LIDC model at 32x32 aborted
 * with "corrupted size vs. prev_size" within a second, every time. The addon now blocks signals
 * while a kernel runs; this runs the installed bin that way to completion.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../runtime/backends/native.js';
import { ROOT, runBin, tempDir } from '../cli/helpers.js';

describe.runIf(loadNativeAddon().ok)('native kernels under a sampling profiler', () => {
  it('compile-and-train of the LIDC model completes with SIGPROF arriving every 100 us', () => {
    const dir = tempDir('punet-signals-');
    const run = runBin(
      'compile-and-train',
      [join(ROOT, 'examples/prob-unet-lidc.punet'), '--steps', '2', '--set', 'input.size=32x32', '--set', 'train.batch_size=2', '--out', join(dir, 'run')],
      { nodeArgs: ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${join(dir, 'profile')}`], env: { PUNET_THREADS: '2' } },
    );
    expect(run.stderr).not.toMatch(/corrupted|malloc|double free/);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('evaluation:');
  }, 120_000);
});
