/**
 * Snapshot cases: one folder per case under cases/, holding `input.punet` (plus any files it
 * extends) and `expected.txt`, the formatted diagnostics (empty for a valid spec).
 * UPDATE_SNAPSHOTS=1 rewrites the expectations; review the diff before committing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../spec/index.js';
import { createRegistry } from '../../plugins/index.js';
import { CASES, render } from './helpers.js';

const update = process.env.UPDATE_SNAPSHOTS === '1';
const registry = createRegistry();
const cases = fs.readdirSync(CASES).filter((d) => fs.existsSync(path.join(CASES, d, 'input.punet'))).sort();

describe('spec snapshot cases', () => {
  it('has at least 40 invalid cases', () => {
    expect(cases.filter((c) => !c.startsWith('valid-')).length).toBeGreaterThanOrEqual(40);
  });

  for (const name of cases) {
    it(name, () => {
      const dir = path.join(CASES, name);
      const file = path.join(dir, 'input.punet');
      const result = checkSource(fs.readFileSync(file, 'utf8'), file, registry);
      const actual = render(result.diagnostics, result.sources, dir) + '\n';
      const expectedFile = path.join(dir, 'expected.txt');
      if (update) fs.writeFileSync(expectedFile, actual);
      expect(fs.existsSync(expectedFile), `${expectedFile} missing: run with UPDATE_SNAPSHOTS=1 and review it`).toBe(true);
      expect(actual).toBe(fs.readFileSync(expectedFile, 'utf8'));
      // The folder name says what kind of case it is; hold the diagnostics to it.
      if (name.startsWith('valid-')) expect(result.spec).toBeDefined();
      else expect(result.diagnostics.length).toBeGreaterThan(0);
      expect(result.diagnostics.some((d) => d.code === 'E000' || d.code === 'E499')).toBe(false);
    });
  }
});
