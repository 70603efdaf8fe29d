/**
 * A SAFE reader for Python pickles holding plain data and numpy arrays (protocols 2-5).
 *
 * Pickle is a little stack machine whose GLOBAL/REDUCE opcodes can call any Python function, which
 * is why `pickle.load` on untrusted files runs code. This VM never calls anything: it knows a fixed
 * allowlist of numpy/codecs constructors (ALLOWED_GLOBALS) and rebuilds their results itself in
 * TypeScript. Any other global (os.system, builtins.eval, ...) is rejected at the GLOBAL opcode,
 * before any REDUCE could use it; so are opcodes for arbitrary classes (INST, OBJ, NEWOBJ...).
 *
 * Python values map to: dict -> Map, list -> array, tuple -> frozen array, str -> string,
 * bytes/bytearray -> Uint8Array, int -> number (bigint beyond 2^53), float -> number,
 * bool/None -> boolean/null, set/frozenset -> Set, numpy.ndarray -> NdArray.
 */
import { DataError } from '../errors.js';

export type DType = 'float32' | 'float64' | 'float16' | 'uint8' | 'int8' | 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

/** A numpy array rebuilt from its pickled state, always returned in C (row-major) order. */
export interface NdArray {
  readonly kind: 'ndarray';
  dtype: DType;
  shape: number[];
  /** Elements in C order. int64/uint64 come as BigInt64Array/BigUint64Array. */
  data: Float32Array | Float64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}

/** The only callables a pickle may name; each is reimplemented below, never looked up. */
const ALLOWED_GLOBALS = new Set([
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
  'numpy.ndarray',
  'numpy.dtype',
  'numpy.core.multiarray.scalar',
  'numpy._core.multiarray.scalar',
  'numpy.core.numeric._frombuffer',
  'numpy._core.numeric._frombuffer',
  '_codecs.encode',
]);

/** A reference to an allowlisted global (the VM's stand-in for the Python object). */
class GlobalRef {
  constructor(readonly qualified: string) {}
  get name(): string {
    return this.qualified.slice(this.qualified.lastIndexOf('.') + 1);
  }
}

/** numpy dtype under construction: dtype('f4') then BUILD with (version, byteorder, ...). */
class DTypeValue {
  byteOrder = '=';
  constructor(readonly code: string) {}
}

/** The empty array `_reconstruct` returns; BUILD fills it from (version, shape, dtype, fortran, raw). */
class PendingArray {
  array?: NdArray;
}

const MARK = Symbol('mark');
/** Bounds on a tuple used as a dict key (its canonical text is built eagerly). */
const MAX_KEY_ELEMENTS = 10_000;
const MAX_KEY_DEPTH = 64;

/** What a rejected pickle throws: never executes anything, names the file and the culprit. */
export class UnsafePickleError extends DataError {}

const DTYPE_INFO: Record<string, { dtype: DType; size: number }> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  f2: { dtype: 'float16', size: 2 },
  u1: { dtype: 'uint8', size: 1 },
  i1: { dtype: 'int8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  u2: { dtype: 'uint16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  u4: { dtype: 'uint32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u8: { dtype: 'uint64', size: 8 },
};

/** Parses pickle bytes. `nameForErrors` (the file) appears in every error message. */
export function loadPickle(bytes: Uint8Array, nameForErrors: string): unknown {
  // A plain Uint8Array view: Buffer's slice() does not copy, and views must not alias a pool.
  return new PickleVM(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), nameForErrors).run();
}

class PickleVM {
  private pos = 0;
  private stack: unknown[] = [];
  private marks: number[] = [];
  private memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): never {
    throw new DataError(`${this.file}: ${message} (at byte ${this.pos}); this is not a pickle punet can read`, this.file);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new DataError(`${this.file} is truncated: a pickle opcode needs ${n} bytes at byte ${this.pos}, only ${this.bytes.length - this.pos} left`, this.file);
    }
  }
  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length too large');
    return Number(v);
  }
  /** A zero-copy view of the next n bytes. */
  private take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.need(this.bytes.length - this.pos + 1);
    const text = Buffer.from(this.bytes.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return text;
  }
  private utf8(n: number): string {
    return Buffer.from(this.take(n)).toString('utf8');
  }

  private pop(): unknown {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1)) this.fail('stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  /** Items pushed since the last MARK, removing them and the mark. */
  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('MARK missing');
    const items = this.stack.splice(mark);
    return items;
  }

  run(): unknown {
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail('pickle protocol newer than 5');
          break;
        case 0x95: // FRAME: framing is only a buffering hint
          this.u64();
          break;
        case 0x2e: {
          // STOP
          if (this.stack.length !== 1) this.fail(`STOP with ${this.stack.length} values on the stack`);
          return this.stack[0];
        }
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;

        // --- constants and numbers
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.u16());
          break;
        case 0x4a: // BININT
          this.stack.push(this.i32());
          break;
        case 0x8a: // LONG1
          this.stack.push(this.longBytes(this.u8()));
          break;
        case 0x8b: // LONG4
          this.stack.push(this.longBytes(this.i32()));
          break;
        case 0x49: {
          // INT (text): also encodes True/False as 01/00 in protocol 0
          const text = this.line();
          this.stack.push(text === '01' ? true : text === '00' ? false : this.parseInt(text));
          break;
        }
        case 0x4c: // LONG (text)
          this.stack.push(this.parseInt(this.line().replace(/L$/, '')));
          break;
        case 0x47: {
          // BINFLOAT: big-endian double
          this.need(8);
          this.stack.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        }
        case 0x46: // FLOAT (text)
          this.stack.push(Number(this.line()));
          break;

        // --- strings and bytes
        case 0x58: // BINUNICODE
          this.stack.push(this.utf8(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.utf8(this.u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.utf8(this.u64()));
          break;
        case 0x54: // BINSTRING (Python 2 str): kept as a latin-1 string
          this.stack.push(Buffer.from(this.take(this.i32())).toString('latin1'));
          break;
        case 0x55: // SHORT_BINSTRING
          this.stack.push(Buffer.from(this.take(this.u8())).toString('latin1'));
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.take(this.u32()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.take(this.u8()));
          break;
        case 0x8e: // BINBYTES8
          this.stack.push(this.take(this.u64()));
          break;
        case 0x96: // BYTEARRAY8
          this.stack.push(this.take(this.u64()));
          break;

        // --- containers
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push(Object.freeze([]));
          break;
        case 0x8f: // EMPTY_SET
          this.stack.push(new Set());
          break;
        case 0x64: {
          // DICT
          const items = this.popMark();
          this.stack.push(this.pairsInto(new Map(), items));
          break;
        }
        case 0x6c: // LIST
          this.stack.push(this.popMark());
          break;
        case 0x74: // TUPLE
          this.stack.push(Object.freeze(this.popMark()));
          break;
        case 0x85: // TUPLE1
          this.stack.push(Object.freeze([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          const a = this.pop();
          this.stack.push(Object.freeze([a, b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.stack.push(Object.freeze([a, b, c]));
          break;
        }
        case 0x91: // FROZENSET
          this.stack.push(new Set(this.popMark()));
          break;
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.asMap(this.top()).set(this.key(key), value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          this.pairsInto(this.asMap(this.top()), items);
          break;
        }
        case 0x61: {
          // APPEND
          const value = this.pop();
          this.asList(this.top()).push(value);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          this.asList(this.top()).push(...items);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const set = this.top();
          if (!(set instanceof Set)) this.fail('ADDITEMS on a non-set');
          for (const item of items) set.add(item);
          break;
        }

        // --- memo
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x70: // PUT (text)
          this.memo.set(Number(this.line()), this.top());
          break;
        case 0x68: // BINGET
          this.stack.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memoGet(this.u32()));
          break;
        case 0x67: // GET (text)
          this.stack.push(this.memoGet(Number(this.line())));
          break;

        // --- the dangerous part: only allowlisted globals, rebuilt here, never executed
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = this.line();
          const name = this.line();
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const callable = this.pop();
          this.stack.push(this.reduce(callable, args));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          this.build(this.top(), state);
          break;
        }
        default:
          this.rejectOpcode(op);
      }
    }
  }

  private rejectOpcode(op: number): never {
    const names: Record<number, string> = {
      0x69: 'INST',
      0x6f: 'OBJ',
      0x81: 'NEWOBJ',
      0x92: 'NEWOBJ_EX',
      0x50: 'PERSID',
      0x51: 'BINPERSID',
      0x82: 'EXT1',
      0x83: 'EXT2',
      0x84: 'EXT4',
      0x97: 'NEXT_BUFFER',
      0x98: 'READONLY_BUFFER',
    };
    const name = names[op];
    this.pos--;
    if (name) {
      throw new UnsafePickleError(`${this.file}: refusing pickle opcode ${name} at byte ${this.pos}: it builds arbitrary objects or needs out-of-band data; punet only loads plain data and numpy arrays`, this.file);
    }
    this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
  }

  private global(module: string, name: string): GlobalRef {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualified)) {
      throw new UnsafePickleError(
        `${this.file}: refusing to load the pickle: it references ${qualified}, which is not one of the numpy array constructors punet allows (nothing was executed)`,
        this.file,
      );
    }
    return new GlobalRef(qualified);
  }

  private reduce(callable: unknown, args: unknown): unknown {
    if (!(callable instanceof GlobalRef)) this.fail('REDUCE on something that is not an allowed constructor');
    if (!Array.isArray(args)) this.fail('REDUCE arguments are not a tuple');
    switch (callable.name) {
      case '_reconstruct': {
        // _reconstruct(numpy.ndarray, (0,), b'b'): an empty array that BUILD fills.
        const [cls] = args;
        if (!(cls instanceof GlobalRef) || cls.name !== 'ndarray') this.fail('_reconstruct of something other than numpy.ndarray');
        return new PendingArray();
      }
      case 'dtype': {
        const [code] = args;
        if (typeof code !== 'string') this.fail('numpy.dtype needs a type code string');
        return new DTypeValue(code);
      }
      case 'encode': {
        // _codecs.encode(text, 'latin1'): how protocol 2 stores bytes.
        const [text, encoding] = args;
        if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) this.fail('_codecs.encode is only allowed for latin1 text');
        return new Uint8Array(Buffer.from(text, 'latin1'));
      }
      case '_frombuffer': {
        // Protocol 5 form: _frombuffer(buffer, dtype, shape, order).
        const [buffer, dtype, shape, order] = args;
        return this.makeArray(shape, dtype, order === 'F', buffer);
      }
      case 'scalar': {
        const [dtype, raw] = args;
        const array = this.makeArray([], dtype, false, raw);
        const value = array.data[0];
        return typeof value === 'bigint' ? value : dtype instanceof DTypeValue && this.dtypeInfo(dtype).dtype === 'bool' ? value !== 0 : value;
      }
      default:
        this.fail(`${callable.qualified} cannot be called`);
    }
  }

  private build(target: unknown, state: unknown): void {
    if (target instanceof DTypeValue) {
      // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
      if (!Array.isArray(state) || typeof state[1] !== 'string') this.fail('unexpected numpy.dtype state');
      if (state[2] !== null || state[3] !== null) this.fail('structured or sub-array numpy dtypes are not supported');
      target.byteOrder = state[1];
      return;
    }
    if (target instanceof PendingArray) {
      // (version, shape, dtype, is_fortran, raw data)
      if (!Array.isArray(state) || state.length !== 5) this.fail('unexpected numpy.ndarray state');
      const [, shape, dtype, fortran, raw] = state;
      target.array = this.makeArray(shape, dtype, fortran === true, raw);
      const at = this.stack.lastIndexOf(target);
      this.stack[at] = target.array;
      for (const [k, v] of this.memo) if (v === target) this.memo.set(k, target.array);
      return;
    }
    this.fail('BUILD on an object punet does not construct');
  }

  private dtypeInfo(dtype: DTypeValue): { dtype: DType; size: number; bigEndian: boolean } {
    const code = dtype.code.replace(/^[<>|=!]/, '');
    const info = DTYPE_INFO[code];
    if (!info) this.fail(`numpy dtype '${dtype.code}' is not supported (float16/32/64, bool, int8-64 and uint8-64 are)`);
    // The byte order is in BUILD's state ('<', '>', '|', '=') or, for dtype('>f4'), in the code itself.
    const order = dtype.byteOrder === '<' || dtype.byteOrder === '>' ? dtype.byteOrder : /^[>!]/.test(dtype.code) ? '>' : '<';
    return { ...info, bigEndian: order === '>' && info.size > 1 };
  }

  private makeArray(shapeValue: unknown, dtype: unknown, fortran: boolean, raw: unknown): NdArray {
    if (!Array.isArray(shapeValue) || !shapeValue.every((d) => Number.isInteger(d) && d >= 0)) this.fail('numpy array shape is not a tuple of sizes');
    if (!(dtype instanceof DTypeValue)) this.fail('numpy array without a dtype');
    const shape = shapeValue as number[];
    const info = this.dtypeInfo(dtype);
    const bytes = typeof raw === 'string' ? new Uint8Array(Buffer.from(raw, 'latin1')) : raw;
    if (!(bytes instanceof Uint8Array)) this.fail('numpy array data is not raw bytes (object arrays are not supported)');
    const count = shape.reduce((a, b) => a * b, 1);
    if (bytes.length !== count * info.size) this.fail(`numpy array of shape (${shape.join(', ')}) ${info.dtype} needs ${count * info.size} bytes, has ${bytes.length}`);
    // Copy into a fresh, aligned buffer (pickle data sits at arbitrary offsets).
    const copy = new Uint8Array(bytes);
    if (info.bigEndian) swapBytes(copy, info.size);
    const aligned = copy.buffer;
    let data: NdArray['data'] = typedArray(info.dtype, aligned);
    if (fortran && shape.length > 1) data = toCOrder(data, shape);
    return { kind: 'ndarray', dtype: info.dtype, shape, data };
  }

  private longBytes(n: number): number | bigint {
    const b = this.take(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  private parseInt(text: string): number | bigint {
    if (!/^[-+]?\d+$/.test(text)) this.fail(`bad integer '${text}'`);
    const v = BigInt(text);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  private memoGet(key: number): unknown {
    if (!this.memo.has(key)) this.fail(`memo key ${key} was never stored`);
    return this.memo.get(key);
  }
  private asMap(value: unknown): Map<unknown, unknown> {
    if (!(value instanceof Map)) this.fail('SETITEM on something that is not a dict');
    return value;
  }
  private asList(value: unknown): unknown[] {
    if (!Array.isArray(value) || Object.isFrozen(value)) this.fail('APPEND on something that is not a list');
    return value;
  }
  /**
   * Tuple keys become their JSON text so equal tuples find the same entry. Memoized tuples can
   * nest each other (t1 = (t0, t0), t2 = (t1, t1), ...): a few hundred bytes would expand to an
   * exponential text, so the expansion is bounded.
   */
  private key(key: unknown): unknown {
    if (!Array.isArray(key)) return key;
    let budget = MAX_KEY_ELEMENTS;
    const expand = (value: unknown, depth: number): unknown => {
      if (--budget < 0 || depth > MAX_KEY_DEPTH) this.fail(`a dict key is a tuple with more than ${MAX_KEY_ELEMENTS} elements or ${MAX_KEY_DEPTH} levels`);
      if (Array.isArray(value)) return value.map((v) => expand(v, depth + 1));
      if (typeof value === 'bigint') return String(value);
      if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
      return value !== null && typeof value === 'object' ? String(value) : value;
    };
    return JSON.stringify(expand(key, 0));
  }
  private pairsInto(map: Map<unknown, unknown>, items: unknown[]): Map<unknown, unknown> {
    if (items.length % 2 !== 0) this.fail('odd number of dict items');
    for (let i = 0; i < items.length; i += 2) map.set(this.key(items[i]), items[i + 1]);
    return map;
  }
}

function typedArray(dtype: DType, buffer: ArrayBuffer): NdArray['data'] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'float16':
      return halfToFloat32(new Uint16Array(buffer));
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'uint16':
      return new Uint16Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'uint32':
      return new Uint32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'uint64':
      return new BigUint64Array(buffer);
  }
}

/** Reverses each `size`-byte element in place (big-endian to the host's little-endian). */
function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** IEEE half floats widened to float32 (Node 20 has no Float16Array). */
function halfToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024) : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

/** Fortran (column-major) element order to C (row-major) order. */
function toCOrder<T extends NdArray['data']>(data: T, shape: number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const n = shape.length;
  const fStride = new Array<number>(n);
  let s = 1;
  for (let d = 0; d < n; d++) {
    fStride[d] = s;
    s *= shape[d];
  }
  const index = new Array<number>(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let d = 0; d < n; d++) f += index[d] * fStride[d];
    (out as unknown as ArrayLike<unknown> & Record<number, unknown>)[c] = data[f];
    for (let d = n - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

export function isNdArray(value: unknown): value is NdArray {
  return typeof value === 'object' && value !== null && (value as NdArray).kind === 'ndarray';
}
