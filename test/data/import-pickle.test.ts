import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPickle, UnsafePickleError, type NdArray } from '../../runtime/data/import/pickle.js';
import { DataError } from '../../runtime/data/errors.js';
import { PY_PICKLE_P2, PY_PICKLE_P4, PY_PICKLE_P5 } from './import-pickle-fixtures.js';
import { pickle } from './import-pickle-writer.js';

const scratch = mkdtempSync(join(tmpdir(), 'punet-pickle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const arr = (v: unknown) => v as NdArray;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('safe pickle reader: CPython + numpy pickles', () => {
  for (const [protocol, bytes] of [
    [2, PY_PICKLE_P2],
    [4, PY_PICKLE_P4],
    [5, PY_PICKLE_P5],
  ] as const) {
    it(`reads protocol ${protocol} exactly`, () => {
      const top = loadPickle(hex(bytes), `p${protocol}.pkl`) as Map<string, unknown>;
      expect([...top.keys()]).toEqual(['LIDC-IDRI-0001_slice5.png', 'f64', 'n', 'big', 'neg', 'tup', 'fl', 'none', 'raw']);
      const item = top.get('LIDC-IDRI-0001_slice5.png') as Map<string, unknown>;
      expect(item.get('series_uid')).toBe('1.3.6.1.4');
      const image = arr(item.get('image'));
      expect(image.dtype).toBe('float32');
      expect(image.shape).toEqual([2, 3]);
      expect(Array.from(image.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5].map((v) => v / 8));
      const masks = item.get('masks') as NdArray[];
      expect(masks.map((m) => m.dtype)).toEqual(['uint8', 'float32', 'bool', 'int64']);
      expect(Array.from(masks[0].data as Uint8Array)).toEqual([0, 1, 0, 1, 1, 0]);
      expect(Array.from(masks[1].data as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Array.from(masks[2].data as Uint8Array)).toEqual([1, 0, 0, 0, 0, 1]);
      // Fortran-ordered in Python; handed back in C order.
      expect(Array.from(masks[3].data as BigInt64Array, Number)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(arr(top.get('f64')).data as Float64Array)).toEqual([0.25, -1.5]);
      expect(top.get('n')).toBe(7);
      expect(top.get('big')).toBe(2n ** 70n);
      expect(top.get('neg')).toBe(-3);
      expect(top.get('tup')).toEqual([1, 'x']);
      expect(top.get('fl')).toBe(1.5);
      expect(top.get('none')).toBeNull();
      expect(Array.from(top.get('raw') as Uint8Array)).toEqual([0, 255]);
    });
  }

  it('reads what the test writer emits (numpy 1.x names, protocol 3)', () => {
    const bytes = pickle({ dict: [['a', { ndarray: { dtype: 'f8', shape: [1, 2], values: [0.5, 2] } }], ['b', [{ float: -0.125 }, true]]] });
    const top = loadPickle(bytes, 'w.pkl') as Map<string, unknown>;
    expect(Array.from(arr(top.get('a')).data as Float64Array)).toEqual([0.5, 2]);
    expect(top.get('b')).toEqual([-0.125, true]);
  });
});

describe('safe pickle reader: refuses code', () => {
  const marker = join(scratch, 'pwned');

  it('rejects a protocol-0 os.system GLOBAL + REDUCE and runs nothing', () => {
    const evil = Buffer.from(`cos\nsystem\n(S'touch ${marker}'\ntR.`, 'latin1');
    const err = thrown(() => loadPickle(evil, 'evil.pkl'));
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/evil\.pkl: refusing to load the pickle: it references os\.system.*nothing was executed/);
    expect(existsSync(marker)).toBe(false);
  });

  it('rejects builtins.eval via STACK_GLOBAL (protocol 4)', () => {
    const bytes = pickle({ global: ['builtins', 'eval'], args: ['1+1'] });
    expect(thrown(() => loadPickle(bytes, 'eval.pkl')).message).toMatch(/references builtins\.eval/);
    // The same through STACK_GLOBAL: PROTO 4, SHORT_BINUNICODE 'builtins', 'eval', STACK_GLOBAL.
    const stackGlobal = Uint8Array.of(0x80, 4, 0x8c, 8, ...Buffer.from('builtins'), 0x8c, 4, ...Buffer.from('eval'), 0x93, 0x8c, 3, ...Buffer.from('1+1'), 0x85, 0x52, 0x2e);
    expect(thrown(() => loadPickle(stackGlobal, 'sg.pkl'))).toBeInstanceOf(UnsafePickleError);
  });

  it('rejects a malicious global hidden inside an otherwise valid numpy pickle', () => {
    // numpy's _reconstruct handed subprocess.Popen as the class instead of numpy.ndarray.
    const bytes = pickle({ dict: [['x', { global: ['numpy.core.multiarray', '_reconstruct'], args: [{ global: ['subprocess', 'Popen'], args: [['ls']] }, 0, 'b'] }]] });
    expect(thrown(() => loadPickle(bytes, 'hidden.pkl')).message).toMatch(/references subprocess\.Popen/);
  });

  it('will not call an allowed name as something else (numpy.ndarray is only a class token)', () => {
    const bytes = pickle({ global: ['numpy', 'ndarray'], args: [{ tuple: [2] }] });
    expect(thrown(() => loadPickle(bytes, 'nd.pkl')).message).toMatch(/nd\.pkl: numpy\.ndarray cannot be called/);
  });

  it('rejects object-building opcodes (NEWOBJ, INST, OBJ) and out-of-band buffers', () => {
    for (const [op, name] of [
      [0x81, 'NEWOBJ'],
      [0x69, 'INST'],
      [0x6f, 'OBJ'],
      [0x97, 'NEXT_BUFFER'],
    ] as const) {
      const err = thrown(() => loadPickle(Uint8Array.of(0x80, 4, 0x4e, op, 0x2e), 'op.pkl'));
      expect(err).toBeInstanceOf(UnsafePickleError);
      expect(err.message).toContain(`opcode ${name}`);
    }
  });

  it('reports truncated and malformed pickles as DataErrors naming the file', () => {
    const good = hex(PY_PICKLE_P4);
    expect(thrown(() => loadPickle(good.subarray(0, 300), 'cut.pkl')).message).toMatch(/cut\.pkl is truncated/);
    expect(thrown(() => loadPickle(Uint8Array.of(0x80, 2, 0xff), 'odd.pkl')).message).toMatch(/odd\.pkl: unknown pickle opcode 0xff/);
    expect(thrown(() => loadPickle(new Uint8Array(0), 'empty.pkl'))).toBeInstanceOf(DataError);
    // An array whose raw data is shorter than its shape says.
    const short = pickle({ ndarray: { dtype: 'f4', shape: [2, 2], values: [1, 2, 3] } });
    expect(thrown(() => loadPickle(short, 'short.pkl')).message).toMatch(/shape \(2, 2\) float32 needs 16 bytes, has 12/);
  });
});
