/**
 * Helpers for kernels that run on the wasm backend by calling the backend's own kernels directly.
 * A kernel must not create tensors through tf.* (that would register them with the engine and the
 * tape) and must free every intermediate it makes: these helpers keep that bookkeeping in one place.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type WasmBackend = BackendWasm;
type Attrs = Record<string, unknown>;

/** Runs the wasm kernel `name` (the one registered right now) and returns its single output. */
export function runWasmKernel(
  backend: WasmBackend,
  name: string,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Attrs = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`);
  const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${name} returned ${out.length} outputs, expected 1`);
  return out;
}

/**
 * Collects intermediate tensor infos so that they can all be freed once the kernel's output exists.
 * `keep` returns its argument, so calls chain: `const t = scratch.keep(runWasmKernel(...))`.
 */
export class Scratch {
  private readonly infos: tf.TensorInfo[] = [];
  private readonly aliases: tf.TensorInfo[] = [];
  constructor(private readonly backend: WasmBackend) {}

  keep(info: tf.TensorInfo): tf.TensorInfo {
    this.infos.push(info);
    return info;
  }

  /** A view with another shape: the wasm Reshape kernel shares the data and bumps its refCount. */
  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.keep(runWasmKernel(this.backend, 'Reshape', { x }, { shape }));
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.keep(runWasmKernel(this.backend, 'Transpose', { x }, { perm }));
  }

  /** A new float32 tensor on the wasm heap filled from `values`. */
  constant(shape: number[], values: Float32Array): tf.TensorInfo {
    return this.keep(this.backend.makeOutput(shape, 'float32', undefined, values));
  }

  /** A new float32 tensor on the wasm heap, contents uninitialised. */
  allocate(shape: number[]): tf.TensorInfo {
    return this.keep(this.backend.makeOutput(shape, 'float32'));
  }

  /**
   * A tensor that aliases `shape`-many floats of `base` starting `offset` elements in, without a
   * copy (a kernel can then read a shifted window of a buffer). It is unregistered on disposal
   * but never freed: the memory belongs to `base`, which must outlive it (aliases are released
   * first).
   */
  alias(base: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    const baseSize = base.shape.reduce((a, b) => a * b, 1);
    if (offset < 0 || offset + size > baseSize) throw new Error(`alias [${offset}, ${offset + size}) outside a buffer of ${baseSize}`);
    const address = this.backend.getMemoryOffset(base.dataId) + 4 * offset;
    const info = this.backend.makeOutput(shape, 'float32', address);
    this.aliases.push(info);
    return info;
  }

  disposeAll(): void {
    for (const info of this.aliases) {
      // Unregister from the C++ tensor table (runs its disposal callbacks) and from the JS map,
      // but do not free: the bytes belong to the base buffer.
      const data = this.backend.dataIdMap.get(info.dataId);
      if (data !== undefined) {
        this.backend.wasm.tfjs.disposeData(data.id);
        this.backend.dataIdMap.delete(info.dataId);
      }
    }
    this.aliases.length = 0;
    for (const info of this.infos) this.backend.disposeData(info.dataId);
    this.infos.length = 0;
  }
}

/** Runs `body` with a scratch list that is emptied whatever happens, so errors leak nothing. */
export function withScratch<T>(backend: WasmBackend, body: (scratch: Scratch) => T): T {
  const scratch = new Scratch(backend);
  try {
    return body(scratch);
  } finally {
    scratch.disposeAll();
  }
}
