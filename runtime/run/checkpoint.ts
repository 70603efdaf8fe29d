/**
 * Checkpoints on disk, written atomically.
 *
 * A store is a folder of `step-NNNNNNNN/` checkpoints. Each is written into a temporary sibling
 * folder, every file fsynced, then renamed into place (a rename within one folder is atomic), so
 * a kill at any moment leaves either the old set or the old set plus one complete new
 * checkpoint. Older checkpoints are pruned only after the new one is in place. Each checkpoint
 * carries `manifest.json` (sizes + sha256 of every file, written last): a truncated or damaged
 * checkpoint is detected on load and the previous good one is used instead, with a warning.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { namingPath, UserError } from '../cli/errors.js';

/** A checkpoint that verified but does not make sense (a forged or mis-written index). */
export class CheckpointError extends UserError {
  override name = 'CheckpointError';
}

export type StoredDtype = 'float32' | 'int32';

/** A tensor's values on the host. */
export interface NamedArray {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Everything a checkpoint holds besides the tensors; JSON. */
export interface CheckpointMeta {
  format: 'punet-checkpoint';
  version: 1;
  /** Completed training steps. */
  step: number;
  /** Randomness is counter based (runtime/train/rng.ts): (seed, step) is the whole RNG state. */
  rng: { seed: number; step: number };
  objectiveState: Record<string, number>;
  /** Best validation so far (for `best/`), carried so a resumed run makes the same choices. */
  best?: { step: number; ged: number; score?: number };
  /** The optimizer's own counters (e.g. Adam's beta powers), restored exactly. */
  optimizerExtras: string[];
  provenance: {
    specHash: string;
    punetVersion: string;
    backend: string;
    time: string;
    model: string;
    /** Every registered plugin and its version (built-ins: punet's); absent in older checkpoints. */
    plugins?: Array<{ name: string; version: string }>;
  };
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** The resolved spec the run trains. */
  spec: unknown;
  weights: NamedArray[];
  /** Optimizer slot variables in its own order (getWeights order), then the extras. */
  optimizer: NamedArray[];
}

interface TensorIndexEntry {
  name: string;
  dtype: StoredDtype;
  shape: number[];
  /** Byte offset in its .bin file. */
  offset: number;
}

interface Manifest {
  format: 'punet-checkpoint-manifest';
  files: Array<{ name: string; bytes: number; sha256: string }>;
}

const FILES = { meta: 'checkpoint.json', spec: 'spec.json', weights: 'weights.bin', optimizer: 'optimizer.bin', manifest: 'manifest.json' };
const STEP_DIR = /^step-(\d+)$/;

export function checkpointDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * Writes `checkpoint` into `store` atomically and keeps the newest `keep` checkpoints.
 * Returns the checkpoint's folder.
 */
export function writeCheckpoint(store: string, checkpoint: Checkpoint, opts: { keep?: number } = {}): string {
  const keep = Math.max(1, opts.keep ?? 2);
  mkdirSync(store, { recursive: true });
  removeStaleTemporaries(store);
  const name = checkpointDirName(checkpoint.meta.step);
  const tmp = join(store, `.tmp-${name}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);

  const [weightsBin, weightsIndex] = packTensors(checkpoint.weights);
  const [optimizerBin, optimizerIndex] = packTensors(checkpoint.optimizer);
  const meta = { ...checkpoint.meta, tensors: { weights: weightsIndex, optimizer: optimizerIndex } };
  const contents: Array<[string, Uint8Array]> = [
    [FILES.weights, weightsBin],
    [FILES.optimizer, optimizerBin],
    [FILES.meta, utf8(JSON.stringify(meta, null, 1))],
    [FILES.spec, utf8(JSON.stringify(checkpoint.spec, null, 2))],
  ];
  const manifest: Manifest = {
    format: 'punet-checkpoint-manifest',
    files: contents.map(([file, bytes]) => ({ name: file, bytes: bytes.byteLength, sha256: sha256(bytes) })),
  };
  for (const [file, bytes] of contents) writeDurably(join(tmp, file), bytes);
  // The manifest last: its presence says every other file was completely written.
  writeDurably(join(tmp, FILES.manifest), utf8(JSON.stringify(manifest, null, 1)));
  fsyncDir(tmp);

  const target = join(store, name);
  if (existsSync(target)) {
    // Same step written again (e.g. after a resume): move the old one aside first.
    const aside = join(store, `.old-${name}-${process.pid}-${Date.now()}`);
    renameSync(target, aside);
    renameSync(tmp, target);
    rmSync(aside, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
  fsyncDir(store);

  for (const old of listCheckpoints(store).slice(keep)) rmSync(join(store, old.name), { recursive: true, force: true });
  return target;
}

/** Checkpoint folders in `store`, newest first. */
export function listCheckpoints(store: string): Array<{ name: string; step: number }> {
  if (!existsSync(store)) return [];
  return readdirSync(store)
    .map((name) => ({ name, m: STEP_DIR.exec(name) }))
    .filter((e) => e.m)
    .map((e) => ({ name: e.name, step: Number(e.m![1]) }))
    .sort((a, b) => b.step - a.step);
}

/** Why a checkpoint folder is unusable, or undefined when its manifest checks out. */
export function verifyCheckpoint(dir: string): string | undefined {
  const manifestPath = join(dir, FILES.manifest);
  if (!existsSync(manifestPath)) return 'no manifest.json (the write did not finish)';
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return 'manifest.json is not valid JSON';
  }
  if (manifest.format !== 'punet-checkpoint-manifest' || !Array.isArray(manifest.files)) return 'manifest.json is not a punet checkpoint manifest';
  for (const file of manifest.files) {
    const path = join(dir, file.name);
    if (!existsSync(path)) return `${file.name} is missing`;
    const size = statSync(path).size;
    if (size !== file.bytes) return `${file.name} has ${size} bytes, the manifest says ${file.bytes}`;
    if (sha256(readFileSync(path)) !== file.sha256) return `${file.name} does not match its checksum`;
  }
  return undefined;
}

export interface LoadedCheckpoint {
  dir: string;
  checkpoint: Checkpoint;
}

/**
 * The newest checkpoint in `store` that verifies, or undefined when there is none. Each newer
 * one that fails verification is reported through `warn` and renamed to `*.corrupt` so it is not
 * mistaken for a good one later.
 */
export function readLatestCheckpoint(store: string, warn: (message: string) => void = () => {}): LoadedCheckpoint | undefined {
  const bad: Array<{ name: string; why: string }> = [];
  for (const entry of listCheckpoints(store)) {
    const dir = join(store, entry.name);
    const why = verifyCheckpoint(dir);
    if (why) {
      bad.push({ name: entry.name, why });
      continue;
    }
    for (const b of bad) quarantine(store, b.name);
    for (const b of bad) warn(`checkpoint ${join(store, b.name)} is incomplete or corrupt (${b.why}); using the previous one, ${dir}`);
    return { dir, checkpoint: readCheckpointDir(dir) };
  }
  for (const b of bad) warn(`checkpoint ${join(store, b.name)} is incomplete or corrupt (${b.why}) and there is no older good one`);
  return undefined;
}

/** Reads a verified checkpoint folder. */
export function readCheckpointDir(dir: string): Checkpoint {
  const metaWithIndex = parseJson(join(dir, FILES.meta)) as CheckpointMeta & {
    tensors: { weights: TensorIndexEntry[]; optimizer: TensorIndexEntry[] };
  };
  const { tensors, ...meta } = metaWithIndex;
  return {
    meta,
    spec: parseJson(join(dir, FILES.spec)),
    weights: unpackTensors(readFileSync(join(dir, FILES.weights)), tensors?.weights, join(dir, FILES.weights)),
    optimizer: unpackTensors(readFileSync(join(dir, FILES.optimizer)), tensors?.optimizer, join(dir, FILES.optimizer)),
  };
}

// ---------------------------------------------------------------------------------------------

function parseJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new CheckpointError(`${path} is not valid JSON (${err.message}); the checkpoint is damaged, use another one`);
    throw err;
  }
}

function packTensors(arrays: NamedArray[]): [Uint8Array, TensorIndexEntry[]] {
  const total = arrays.reduce((n, a) => n + a.data.byteLength, 0);
  const out = new Uint8Array(total);
  const index: TensorIndexEntry[] = [];
  let offset = 0;
  for (const a of arrays) {
    // Little-endian on every platform Node runs on; typed arrays are written as their bytes.
    out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), offset);
    index.push({ name: a.name, dtype: a.dtype, shape: a.shape, offset });
    offset += a.data.byteLength;
  }
  return [out, index];
}

/**
 * Why a tensor index does not describe `fileBytes` bytes, or undefined when every entry is sane:
 * a known dtype, non-negative integer dimensions, and offset + length inside the file. Checked
 * before anything is allocated, so a forged index cannot ask for gigabytes or read past the end.
 */
export function indexProblem(index: unknown, fileBytes: number): string | undefined {
  if (!Array.isArray(index)) return 'the tensor index is not a list';
  for (const [i, e] of (index as Array<Partial<TensorIndexEntry>>).entries()) {
    const name = typeof e?.name === 'string' ? e.name : `#${i}`;
    if (e?.dtype !== 'float32' && e?.dtype !== 'int32') return `tensor ${name} has dtype ${String(e?.dtype)} (float32 or int32 expected)`;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `tensor ${name} has an invalid shape ${JSON.stringify(e.shape)}`;
    const bytes = e.shape.reduce((n, d) => n * d, 1) * 4;
    if (!Number.isSafeInteger(e.offset) || e.offset! < 0 || !Number.isSafeInteger(bytes) || e.offset! + bytes > fileBytes) {
      return `tensor ${name} (offset ${e.offset}, ${bytes} bytes) lies outside the ${fileBytes}-byte file`;
    }
  }
  return undefined;
}

function unpackTensors(bytes: Uint8Array, index: TensorIndexEntry[], file: string): NamedArray[] {
  const problem = indexProblem(index, bytes.byteLength);
  if (problem) throw new CheckpointError(`${file}: ${problem}; the checkpoint is damaged, use another one`);
  return index.map((e) => {
    const count = e.shape.reduce((n, d) => n * d, 1);
    // A fresh aligned copy (Buffer#slice would be a view into Node's shared pool).
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(e.offset, e.offset + count * 4));
    const data = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    return { name: e.name, dtype: e.dtype, shape: e.shape, data };
  });
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    namingPath(path, () => {
      while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
      fsyncSync(fd);
    });
  } finally {
    closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  // Makes the rename itself durable; not supported everywhere (e.g. Windows), where it is skipped.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function removeStaleTemporaries(store: string): void {
  for (const name of readdirSync(store)) {
    if (name.startsWith('.tmp-') || name.startsWith('.old-')) rmSync(join(store, name), { recursive: true, force: true });
  }
}

function quarantine(store: string, name: string): void {
  try {
    renameSync(join(store, name), join(store, `${name}.corrupt-${Date.now()}`));
  } catch {
    /* leave it: listing will skip it again next time */
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
