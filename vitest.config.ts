import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/plugins/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs backends are process-global state: isolate test files in forks.
    pool: 'forks',
    // Backend selection registers the cpu kernel fixes; tests that set a backend directly need them too.
    setupFiles: ['test/setup-cpu-fixes.ts'],
    // Test files run in parallel processes: one wasm thread each, so they do not oversubscribe
    // the cores. test/backends/wasm-threads.test.ts runs its own children with 1 and 2 threads.
    env: { PUNET_WASM_THREADS: '1' },
  },
});
