/**
 * A tiny pickle WRITER for tests: emits what CPython's pickler emits at protocol 3 for dicts,
 * lists, strings, ints, floats and numpy arrays (numpy 1.x names: numpy.core.multiarray), so the
 * tests can build LIDC-style pickles of any shape without Python.
 */
export type PyValue =
  | null
  | boolean
  | string
  | number
  | Uint8Array
  | PyValue[]
  | { tuple: PyValue[] }
  | { float: number }
  | { dict: [PyValue, PyValue][] }
  | { ndarray: { dtype: 'f4' | 'f8' | 'u1' | 'b1' | 'i8'; shape: number[]; values: number[] } }
  | { global: [string, string]; args: PyValue[] };

const DTYPE_ORDER: Record<string, string> = { f4: '<', f8: '<', u1: '|', b1: '|', i8: '<' };

export function pickle(value: PyValue): Uint8Array {
  const out: number[] = [0x80, 3];
  emit(value, out);
  out.push(0x2e); // STOP
  return Uint8Array.from(out);
}

function u32(n: number, out: number[]): void {
  out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
}
function str(s: string, out: number[]): void {
  const b = Buffer.from(s, 'utf8');
  out.push(0x58); // BINUNICODE
  u32(b.length, out);
  out.push(...b);
}
function global(module: string, name: string, out: number[]): void {
  out.push(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')); // GLOBAL
}
function tuple(items: PyValue[], out: number[]): void {
  out.push(0x28); // MARK
  for (const item of items) emit(item, out);
  out.push(0x74); // TUPLE
}

function emit(value: PyValue, out: number[]): void {
  if (value === null) out.push(0x4e);
  else if (value === true) out.push(0x88);
  else if (value === false) out.push(0x89);
  else if (typeof value === 'string') str(value, out);
  else if (typeof value === 'number') {
    out.push(0x4a); // BININT
    u32(value >>> 0, out);
  } else if (value instanceof Uint8Array) {
    out.push(0x42); // BINBYTES
    u32(value.length, out);
    out.push(...value);
  } else if (Array.isArray(value)) {
    out.push(0x5d, 0x28); // EMPTY_LIST MARK
    for (const item of value) emit(item, out);
    out.push(0x65); // APPENDS
  } else if ('tuple' in value) tuple(value.tuple, out);
  else if ('float' in value) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value.float);
    out.push(0x47, ...b);
  } else if ('dict' in value) {
    out.push(0x7d, 0x28); // EMPTY_DICT MARK
    for (const [k, v] of value.dict) {
      emit(k, out);
      emit(v, out);
    }
    out.push(0x75); // SETITEMS
  } else if ('global' in value) {
    global(value.global[0], value.global[1], out);
    tuple(value.args, out);
    out.push(0x52); // REDUCE
  } else {
    const { dtype, shape, values } = value.ndarray;
    // _reconstruct(ndarray, (0,), b'b') then BUILD((1, shape, dtype, False, raw)), as numpy does.
    global('numpy.core.multiarray', '_reconstruct', out);
    out.push(0x28);
    global('numpy', 'ndarray', out);
    tuple([0], out);
    emit(Uint8Array.of(0x62), out);
    out.push(0x74, 0x52); // TUPLE REDUCE
    out.push(0x28, 0x4b, 1); // MARK BININT1 1
    tuple(shape, out);
    global('numpy', 'dtype', out);
    tuple([dtype, false, true], out);
    out.push(0x52); // REDUCE
    out.push(0x28, 0x4b, 3); // dtype state: (3, order, None, None, None, -1, -1, 0)
    str(DTYPE_ORDER[dtype], out);
    out.push(0x4e, 0x4e, 0x4e, 0x4a, 255, 255, 255, 255, 0x4a, 255, 255, 255, 255, 0x4b, 0, 0x74, 0x62);
    out.push(0x89); // not Fortran
    emit(rawBytes(dtype, values), out);
    out.push(0x74, 0x62); // TUPLE BUILD
  }
}

function rawBytes(dtype: string, values: number[]): Uint8Array {
  switch (dtype) {
    case 'f4':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'f8':
      return new Uint8Array(Float64Array.from(values).buffer);
    case 'i8':
      return new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
    default:
      return Uint8Array.from(values);
  }
}
