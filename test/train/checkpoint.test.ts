import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkpointDirName,
  listCheckpoints,
  readLatestCheckpoint,
  verifyCheckpoint,
  writeCheckpoint,
  type Checkpoint,
} from '../../runtime/run/checkpoint.js';
import { tempDir } from './helpers.js';

function fakeCheckpoint(step: number): Checkpoint {
  return {
    meta: {
      format: 'punet-checkpoint',
      version: 1,
      step,
      rng: { seed: 1, step },
      objectiveState: { lambda: 0.25 * step },
      optimizerExtras: ['accBeta1'],
      provenance: { specHash: 'abc', punetVersion: '0.1.0', backend: 'cpu', time: 'now', model: 'm' },
    },
    spec: { model: 'm', step },
    weights: [
      { name: 'a/kernel', dtype: 'float32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, step + 0.5]) },
      { name: 'b/bias', dtype: 'float32', shape: [1], data: Float32Array.from([-step]) },
    ],
    optimizer: [
      { name: 'slot:0:iter', dtype: 'int32', shape: [], data: Int32Array.from([step]) },
      { name: 'extra:accBeta1', dtype: 'float32', shape: [], data: Float32Array.from([0.9 ** step]) },
    ],
  };
}

describe('checkpoints', () => {
  it('round-trips weights, optimizer tensors (float32 and int32) and metadata exactly', () => {
    const store = tempDir();
    const dir = writeCheckpoint(store, fakeCheckpoint(3));
    expect(dir).toBe(join(store, checkpointDirName(3)));
    expect(verifyCheckpoint(dir)).toBeUndefined();
    const loaded = readLatestCheckpoint(store)!;
    const original = fakeCheckpoint(3);
    expect(loaded.checkpoint.meta).toEqual(original.meta);
    expect(loaded.checkpoint.spec).toEqual(original.spec);
    expect(loaded.checkpoint.weights).toEqual(original.weights);
    expect(loaded.checkpoint.optimizer).toEqual(original.optimizer);
    expect(loaded.checkpoint.optimizer[0]!.data).toBeInstanceOf(Int32Array);
    // the weights file is exactly the float32 bytes, in order
    expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(7 * 4);
  });

  it('keeps the newest two and leaves no temporary folders', () => {
    const store = tempDir();
    for (const step of [2, 4, 6, 8]) writeCheckpoint(store, fakeCheckpoint(step));
    expect(listCheckpoints(store).map((c) => c.step)).toEqual([8, 6]);
    expect(readdirSync(store).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('detects a truncated newest checkpoint and falls back to the previous one with a warning', () => {
    const store = tempDir();
    writeCheckpoint(store, fakeCheckpoint(2));
    const newest = writeCheckpoint(store, fakeCheckpoint(4));
    truncateSync(join(newest, 'weights.bin'), 10);
    const warnings: string[] = [];
    const loaded = readLatestCheckpoint(store, (m) => warnings.push(m))!;
    expect(loaded.checkpoint.meta.step).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('weights.bin has 10 bytes, the manifest says 28');
    expect(warnings[0]).toContain(checkpointDirName(2));
    // the corrupt one is set aside so it never shadows a later good write of the same step
    expect(listCheckpoints(store).map((c) => c.step)).toEqual([2]);
  });

  it('detects a same-size corruption through the checksum', () => {
    const store = tempDir();
    writeCheckpoint(store, fakeCheckpoint(2));
    const newest = writeCheckpoint(store, fakeCheckpoint(4));
    const bytes = readFileSync(join(newest, 'optimizer.bin'));
    bytes[0] ^= 0xff;
    writeFileSync(join(newest, 'optimizer.bin'), bytes);
    expect(verifyCheckpoint(newest)).toContain('checksum');
    expect(readLatestCheckpoint(store)!.checkpoint.meta.step).toBe(2);
  });

  it('ignores a checkpoint whose write never finished (no manifest)', () => {
    const store = tempDir();
    writeCheckpoint(store, fakeCheckpoint(2));
    const newest = writeCheckpoint(store, fakeCheckpoint(4));
    rmSync(join(newest, 'manifest.json'));
    expect(readLatestCheckpoint(store, () => {})!.checkpoint.meta.step).toBe(2);
  });

  it('returns undefined for an empty or missing store', () => {
    expect(readLatestCheckpoint(join(tempDir(), 'nothing'))).toBeUndefined();
  });

  it('replaces a checkpoint of the same step atomically', () => {
    const store = tempDir();
    writeCheckpoint(store, fakeCheckpoint(2));
    const again = fakeCheckpoint(2);
    again.meta.objectiveState = { lambda: 9 };
    writeCheckpoint(store, again);
    expect(readLatestCheckpoint(store)!.checkpoint.meta.objectiveState).toEqual({ lambda: 9 });
    expect(existsSync(join(store, checkpointDirName(2)))).toBe(true);
  });
});
