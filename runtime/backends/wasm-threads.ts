/**
 * Multi-threaded wasm in Node: lets tfjs-backend-wasm 4.22 load its threaded SIMD build, so XNNPACK
 * runs convolutions and matrix products on every core instead of one.
 *
 * Why tfjs stays single-threaded in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to
 * false there, because emscripten's pthread glue starts each thread as `new Worker(blobUrl)` and
 * then has the thread `importScripts` the main script from a Blob, and Node's worker_threads and
 * file reads accept neither blob: URL. Nothing in node_modules is patched; instead, at runtime:
 *
 * 1. the flag is set to true and the XNNPACK thread count is chosen (before the backend starts);
 * 2. a global `Worker` class is installed that the glue cannot overwrite (the glue assigns Node's
 *    Worker to globalThis.Worker; our accessor keeps ours). For a blob: URL it starts a real
 *    worker_threads Worker running a small bootstrap, then sends it the script text read from the
 *    Blob (the glue's own worker script, unchanged) and the main script text with the few
 *    bundle-scope names it refers to (`require$$0`, `__values`...) defined in front of it;
 * 3. while the module initialises, os.cpus() (the glue's core count in Node) reports twice the
 *    thread count: tfjs's C++ caps XNNPACK's pool at half the logical cores (it assumes two
 *    hyperthreads per core), which would give a 2-core machine one thread;
 * 4. messages the glue posts while those texts are being read are queued, in order; after that,
 *    posting is direct and synchronous (thread start-up must not wait for our event loop, since
 *    the main thread blocks inside wasm while XNNPACK's threads start).
 *
 * Idle XNNPACK threads wait forever on a futex; our workers ignore `ref()` so that those idle
 * threads never keep the process alive after the program's work is done.
 */
import { resolveObjectURL } from 'node:buffer';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';

/** Env var: number of XNNPACK threads (1 = the single-threaded SIMD build, as before). */
export const THREADS_ENV = 'PUNET_WASM_THREADS';

/** importScripts() name under which a worker finds the main script text we sent it. */
const MAIN_SCRIPT_ID = 'punet:tfjs-backend-wasm-threaded-simd.js';

/**
 * Runs first in each thread. The glue's worker script registers its own message listener when we
 * evaluate it; later listeners added this way run after ours, so ours sees every message first.
 */
const BOOTSTRAP = `
const { parentPort } = require('node:worker_threads');
const mainScripts = new Map();
parentPort.on('message', (msg) => {
  if (msg === null || typeof msg !== 'object') return;
  if (typeof msg.punetWorkerScript === 'string') {
    (0, eval)(msg.punetWorkerScript);
    const readFileScript = globalThis.importScripts;
    globalThis.importScripts = (name) =>
      mainScripts.has(name) ? (0, eval)(mainScripts.get(name)) : readFileScript(name);
  } else if (typeof msg.punetMainScript === 'string') {
    mainScripts.set(msg.punetMainScriptId, msg.punetMainScript);
  }
});
`;

/**
 * Names the threaded factory takes from the bundle's scope (tf-backend-wasm.node.js): Node modules
 * bound by the bundler and the TypeScript down-levelling helpers it uses (our own equivalents).
 */
const MAIN_SCRIPT_PROLOGUE = `
var require$$0 = require('node:fs'), require$$1 = require('node:path');
var require$$3 = require('node:perf_hooks'), require$$4 = require('node:os');
var commonjsGlobal = globalThis;
var __require = require; // the name esbuild gives require() in the offline bundle (scripts/bundle.mjs)
function __values(o) { return o[Symbol.iterator](); }
function __read(o, n) { const all = Array.from(o); return n === undefined ? all : all.slice(0, n); }
function __spreadArray(to, from) { return to.concat(Array.from(from)); }
`;

type Posted = [message: unknown, transfer: readonly unknown[] | undefined];

/** Text of a main script Blob with the prologue, read once per Blob (all threads share one). */
const mainScriptTexts = new WeakMap<Blob, Promise<string>>();
function mainScriptText(blob: Blob): Promise<string> {
  let text = mainScriptTexts.get(blob);
  if (text === undefined) {
    text = blob.text().then((body) => MAIN_SCRIPT_PROLOGUE + body);
    mainScriptTexts.set(blob, text);
  }
  return text;
}

function isLoadWithBlob(message: unknown): message is { cmd: 'load'; urlOrBlob: Blob } {
  const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
  return m !== null && typeof m === 'object' && m.cmd === 'load' && m.urlOrBlob instanceof Blob;
}

/**
 * The parent's Node flags minus those that would make the eval'd scripts ES modules (the glue's
 * worker script and ours are CommonJS: they use require), e.g. `node --input-type=module -e ...`.
 */
function commonJsExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (/^--(input-type|experimental-default-type)(=|$)/.test(flag)) {
      if (!flag.includes('=')) i++; // the value was the next argument
      continue;
    }
    out.push(flag);
  }
  return out;
}

/** A worker_threads Worker that also accepts the blob: URLs emscripten's pthread glue uses. */
export class BlobUrlWorker extends NodeWorker {
  /** Messages waiting for the scripts to be read; null once posting is direct. */
  private queue: Posted[] | null = null;
  private draining: Promise<void> = Promise.resolve();

  constructor(script: string | URL, options?: WorkerOptions) {
    const blobUrl = typeof script === 'string' && script.startsWith('blob:') ? script : null;
    super(blobUrl === null ? script : BOOTSTRAP, blobUrl === null ? options : { ...options, eval: true, execArgv: commonJsExecArgv() });
    if (blobUrl === null) return;
    const blob = resolveObjectURL(blobUrl);
    if (blob === undefined) {
      throw new Error(`wasm threads: ${blobUrl} does not name a Blob of this thread (set ${THREADS_ENV}=1 to run wasm single-threaded)`);
    }
    this.queue = [];
    this.draining = blob.text().then((text) => super.postMessage({ punetWorkerScript: text }));
    this.draining.catch((err: unknown) => this.emit('error', err));
  }

  override postMessage(message: unknown, transfer?: readonly unknown[]): void {
    if (this.queue === null) {
      super.postMessage(message, transfer as never);
      return;
    }
    this.queue.push([message, transfer]);
    this.draining = this.draining.then(() => this.drainOne()).catch((err: unknown) => {
      this.emit('error', err);
    });
  }

  /** Posts the oldest queued message (rewriting a Blob main script); goes direct when empty. */
  private async drainOne(): Promise<void> {
    const [message, transfer] = this.queue!.shift()!;
    if (isLoadWithBlob(message)) {
      const text = await mainScriptText(message.urlOrBlob);
      super.postMessage({ punetMainScriptId: MAIN_SCRIPT_ID, punetMainScript: text });
      super.postMessage({ ...message, urlOrBlob: MAIN_SCRIPT_ID }, transfer as never);
    } else {
      super.postMessage(message, transfer as never);
    }
    if (this.queue!.length === 0) this.queue = null;
  }

  /** Idle XNNPACK threads must not keep the process alive (see the module comment). */
  override ref(): void {}
}

let installed = false;

/** Makes globalThis.Worker our class, and keeps it when the emscripten glue assigns Node's Worker. */
export function installWorkerShim(): void {
  if (installed) return;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    enumerable: false,
    get: () => BlobUrlWorker,
    set: () => {},
  });
  installed = true;
}

/**
 * Thread count for XNNPACK: PUNET_WASM_THREADS if set (a positive integer), else the number of
 * cores Node may use, at most 8 (the glue pre-starts a pool of 8 threads), else, where the native
 * kernels run (`nativeKernels`), 1: the convolutions then run in oneDNN's own threads and the pool
 * would only split small elementwise kernels, which costs more than it saves (measured at 2 threads:
 * tiny model 40 -> 28 ms CPU per step, LIDC step wall unchanged).
 */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env, nativeKernels = false): number {
  const raw = env[THREADS_ENV];
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${THREADS_ENV}=${raw} is not a positive integer; set it to e.g. 2, or unset it`);
    }
    return n;
  }
  return nativeKernels ? 1 : Math.max(1, Math.min(8, os.availableParallelism()));
}

/**
 * Runs `init` (the first tf.setBackend('wasm')) with os.cpus() listing 2 x `threads` entries, so
 * tfjs's "logical cores / 2" becomes `threads`. Restored afterwards, even on failure.
 */
export async function withCoreCountForInit<T>(threads: number, init: () => Promise<T>): Promise<T> {
  // The CommonJS exports object: the one the bundle's require('os') returns (the ESM namespace is read-only).
  const osModule = createRequire(import.meta.url)('node:os') as typeof os;
  const realCpus = osModule.cpus;
  osModule.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  };
  try {
    return await init();
  } finally {
    osModule.cpus = realCpus;
  }
}

interface WasmModule {
  setThreadsCount(n: number): void;
}
interface FlagEnv {
  set(name: string, value: boolean): void;
}

/**
 * Chooses the threaded build before the wasm backend initialises (it must run before the first
 * tf.setBackend('wasm')). With one thread the plain SIMD build is kept: it avoids starting the
 * thread pool for nothing. Returns the thread count asked for.
 */
export function configureWasmThreads(wasm: WasmModule, env: FlagEnv, threads = wasmThreadCount()): number {
  const multi = threads > 1;
  if (multi) installWorkerShim();
  env.set('WASM_HAS_MULTITHREAD_SUPPORT', multi);
  wasm.setThreadsCount(threads);
  return threads;
}
