/**
 * Minimum-cost assignment (Hungarian algorithm, shortest augmenting paths with row/column
 * potentials), O(n^2 m) for an n x m cost matrix with n <= m, so O(n^3) when square.
 *
 * Rows are added one at a time; for each, a Dijkstra-like search over columns with reduced costs
 * c[i][j] - u[i] - v[j] (kept >= 0 by the potentials) finds the cheapest augmenting path, then
 * the matching is flipped along it. Every row ends up matched to a distinct column.
 */

export interface Assignment {
  /** columnOfRow[i] = the column matched to row i. */
  columnOfRow: number[];
  /** Sum of the matched costs. */
  cost: number;
}

export function minCostAssignment(cost: readonly (readonly number[])[]): Assignment {
  const rows = cost.length;
  if (rows === 0) return { columnOfRow: [], cost: 0 };
  const cols = cost[0]!.length;
  for (let i = 0; i < rows; i++) {
    const row = cost[i]!;
    if (row.length !== cols) throw new Error(`assignment: cost row ${i} has ${row.length} entries, row 0 has ${cols}`);
    for (let j = 0; j < cols; j++) {
      if (!Number.isFinite(row[j])) throw new Error(`assignment: cost[${i}][${j}] is ${row[j]}, costs must be finite`);
    }
  }
  if (rows > cols) throw new Error(`assignment: needs rows <= columns, got ${rows} x ${cols}`);

  // 1-based internally: index 0 is the virtual column/row that starts each augmenting search.
  const rowPotential = new Float64Array(rows + 1);
  const colPotential = new Float64Array(cols + 1);
  const rowOfCol = new Int32Array(cols + 1); // 0 = unmatched
  const previousCol = new Int32Array(cols + 1);
  const minReduced = new Float64Array(cols + 1);
  const visited = new Uint8Array(cols + 1);

  for (let row = 1; row <= rows; row++) {
    rowOfCol[0] = row;
    let col = 0;
    minReduced.fill(Infinity);
    visited.fill(0);
    do {
      visited[col] = 1;
      const activeRow = rowOfCol[col]!;
      let delta = Infinity;
      let nextCol = 0;
      for (let j = 1; j <= cols; j++) {
        if (visited[j]) continue;
        const reduced = cost[activeRow - 1]![j - 1]! - rowPotential[activeRow]! - colPotential[j]!;
        if (reduced < minReduced[j]!) {
          minReduced[j] = reduced;
          previousCol[j] = col;
        }
        if (minReduced[j]! < delta) {
          delta = minReduced[j]!;
          nextCol = j;
        }
      }
      // Shift potentials so the cheapest frontier column becomes tight (reduced cost 0).
      for (let j = 0; j <= cols; j++) {
        if (visited[j]) {
          rowPotential[rowOfCol[j]!]! += delta;
          colPotential[j]! -= delta;
        } else {
          minReduced[j]! -= delta;
        }
      }
      col = nextCol;
    } while (rowOfCol[col] !== 0);
    // Flip the matching along the augmenting path back to the virtual column.
    do {
      const prev = previousCol[col]!;
      rowOfCol[col] = rowOfCol[prev]!;
      col = prev;
    } while (col !== 0);
  }

  const columnOfRow = new Array<number>(rows).fill(-1);
  let total = 0;
  for (let j = 1; j <= cols; j++) {
    const r = rowOfCol[j]!;
    if (r !== 0) {
      columnOfRow[r - 1] = j - 1;
      total += cost[r - 1]![j - 1]!;
    }
  }
  return { columnOfRow, cost: total };
}
