import { describe, expect, it } from 'vitest';
import { minCostAssignment } from '../../runtime/eval/hungarian.js';

/** Tiny seeded PRNG for test data (independent of the code under test). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Exhaustive minimum over all injective row -> column maps. */
function bruteForceMinCost(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  const used = new Array<boolean>(cols).fill(false);
  let best = Infinity;
  const visit = (row: number, sum: number) => {
    if (row === rows) {
      best = Math.min(best, sum);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      visit(row + 1, sum + cost[row]![c]!);
      used[c] = false;
    }
  };
  visit(0, 0);
  return best;
}

function checkValidAssignment(cost: number[][], columnOfRow: number[], reported: number) {
  expect(columnOfRow).toHaveLength(cost.length);
  expect(new Set(columnOfRow).size).toBe(cost.length); // distinct columns
  for (const c of columnOfRow) expect(c >= 0 && c < cost[0]!.length).toBe(true);
  const sum = columnOfRow.reduce((s, c, r) => s + cost[r]![c]!, 0);
  expect(reported).toBeCloseTo(sum, 12);
}

describe('minCostAssignment', () => {
  it('solves a hand-worked 3x3 case', () => {
    // Row 0 wants col 1 (1), row 1 wants col 1 too (2) but col 0 (3) is next; row 2: col 2 (2).
    // Options: (0->1, 1->0, 2->2) = 1 + 3 + 2 = 6; (0->0, 1->1, 2->2) = 4 + 2 + 2 = 8; ... min 6.
    const cost = [
      [4, 1, 3],
      [3, 2, 5],
      [3, 3, 2],
    ];
    const { columnOfRow, cost: total } = minCostAssignment(cost);
    expect(columnOfRow).toEqual([1, 0, 2]);
    expect(total).toBe(6);
  });

  it('matches brute force on random square and rectangular matrices', () => {
    const random = lcg(7);
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(random() * 6);
      const cols = rows + Math.floor(random() * 3);
      // Half the trials use small integers to create many ties.
      const integer = trial % 2 === 0;
      const cost = Array.from({ length: rows }, () =>
        Array.from({ length: cols }, () => (integer ? Math.floor(random() * 4) : random() * 10 - 3)),
      );
      const { columnOfRow, cost: total } = minCostAssignment(cost);
      checkValidAssignment(cost, columnOfRow, total);
      expect(total).toBeCloseTo(bruteForceMinCost(cost), 9);
    }
  });

  it('handles the empty matrix and rejects bad input with clear errors', () => {
    expect(minCostAssignment([])).toEqual({ columnOfRow: [], cost: 0 });
    expect(() => minCostAssignment([[1, 2], [3]])).toThrow(/row 1 has 1 entries, row 0 has 2/);
    expect(() => minCostAssignment([[1], [2]])).toThrow(/rows <= columns, got 2 x 1/);
    expect(() => minCostAssignment([[NaN]])).toThrow(/cost\[0\]\[0\] is NaN/);
  });

  it('scales to a 200x200 matrix quickly (O(n^3))', () => {
    const random = lcg(3);
    const n = 200;
    const cost = Array.from({ length: n }, () => Array.from({ length: n }, () => random()));
    const started = performance.now();
    const { columnOfRow, cost: total } = minCostAssignment(cost);
    expect(performance.now() - started).toBeLessThan(2000);
    checkValidAssignment(cost, columnOfRow, total);
    // Optimality check without brute force: no 2-swap improves the assignment.
    for (let a = 0; a < n; a += 7) {
      for (let b = a + 1; b < n; b += 5) {
        const ca = columnOfRow[a]!;
        const cb = columnOfRow[b]!;
        expect(cost[a]![cb]! + cost[b]![ca]!).toBeGreaterThanOrEqual(cost[a]![ca]! + cost[b]![cb]! - 1e-12);
      }
    }
  });
});
