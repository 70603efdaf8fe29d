/**
 * Issue 14: the property fuzz in CI (1,000+ generated specs, command lines, PNGs and pickles;
 * `npm run bench -- fuzz` runs 10,000+), plus a sample of the generated command lines through
 * the real `punet` binary, where exit codes and output are what a user sees.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argsArbitrary, makeSandbox, runFuzz, splitRuns } from '../../bench/fuzz.js';
import { punet, STACK_LINE } from './helpers.js';

describe('property fuzz', () => {
  it('1,000 generated cases end cleanly (exit 0/1/2, no stack, < 20 s and < 1 GB each, nothing outside the run folder changed)', async () => {
    const report = await runFuzz(splitRuns(1000), 20261202);
    expect(report.total).toBe(1000);
    // The generators reach every outcome: valid and invalid input, usage errors, reader errors.
    for (const outcome of ['exit 0', 'exit 1', 'exit 2', 'png: DataError', 'png: ok', 'pickle: DataError', 'lidc-pickle: DataError']) {
      expect(report.outcomes[outcome], `${outcome} in ${JSON.stringify(report.outcomes)}`).toBeGreaterThan(0);
    }
    expect(report.peakRssMiB).toBeLessThan(1024);
    console.log(`fuzz: ${JSON.stringify(report)}`);
  }, 240_000);

  it('a sample of generated command lines through the installed binary', () => {
    const box = makeSandbox();
    try {
      for (const { command, argv } of fc.sample(argsArbitrary(box), { numRuns: 8, seed: 42 })) {
        const r = punet([command, ...argv], { env: { PUNET_PLUGIN_TIMEOUT_MS: '2000', PUNET_MEMORY_LIMIT: '2G' }, timeoutMs: 20_000 });
        const what = `punet ${command} ${argv.join(' ')}\n${r.stderr}`;
        expect(r.signal, what).toBeNull();
        expect([0, 1, 2], what).toContain(r.code);
        expect(r.stderr, what).not.toMatch(STACK_LINE);
        expect(r.stderr, what).not.toContain('internal error');
      }
    } finally {
      rmSync(box.root, { recursive: true, force: true });
    }
  }, 240_000);
});
