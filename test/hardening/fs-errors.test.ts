/**
 * Issue 14, case 10: filesystem errors are one line naming the path and the fix (exit 1), never
 * "internal error"; `extends` of a non-spec file does not echo its content.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { namingPath, userErrorFromFs, UserError } from '../../runtime/cli/errors.js';
import { expectRefusal, punet, tempDir, TINY_SPEC } from './helpers.js';

const dir = tempDir('punet-harden-fs-');

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('case 10: filesystem errors become one-line user errors', () => {
  symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
  symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
  writeFileSync(join(dir, 'file'), 'x');
  const real: Array<[string, () => unknown, RegExp]> = [
    ['ENOENT', () => readFileSync(join(dir, 'missing.json')), /missing\.json: no such file or folder; check the path \(ENOENT in open\)/],
    ['EEXIST', () => mkdirSync(join(dir, 'file')), /file: already exists; remove it or choose another path/],
    ['EISDIR', () => readFileSync(dir), /is a folder where a file was expected; give a file path \(EISDIR in read\)/],
    ['ELOOP', () => readFileSync(join(dir, 'loop-a')), /loop-a: too many levels of symbolic links \(a symlink loop\); fix or remove the link/],
    ['ENOSPC', () => namingPath('/dev/full', () => writeFileSync('/dev/full', 'x')), /\/dev\/full: the disk is full; free some space or choose a path on another disk \(ENOSPC in write\)/],
    ['ENOSPC', () => writeFileSync('/dev/full', 'x'), /^a file write: the disk is full; free some space/],
    ['ENOTDIR', () => mkdirSync(join(dir, 'file', 'sub')), /file\/sub: a part of the path is a file where a folder was expected/],
  ];
  for (const [code, fn, message] of real) {
    it(`${code} from a real fs call (${message.source.slice(0, 30)})`, () => {
      const err = thrown(fn) as NodeJS.ErrnoException;
      expect(err.code).toBe(code);
      const mapped = userErrorFromFs(err);
      expect(mapped).toBeInstanceOf(UserError);
      expect(mapped!.message).toMatch(message);
      expect(mapped!.message).not.toContain('\n');
    });
  }

  it('EACCES and EROFS (which root and writable test machines cannot produce) name the path and the fix', () => {
    const as = (code: string) => Object.assign(new Error(`${code}: x`), { code, syscall: 'open', path: '/data/run/spec.json' });
    expect(userErrorFromFs(as('EACCES'))!.message).toBe('/data/run/spec.json: permission denied; choose a path you can write to or change its permissions (EACCES in open)');
    expect(userErrorFromFs(as('EROFS'))!.message).toBe('/data/run/spec.json: the filesystem is read-only; choose a path on a writable filesystem (EROFS in open)');
  });

  it('bugs stay bugs: errors without an errno code and syscall are not mapped', () => {
    expect(userErrorFromFs(new TypeError('x is undefined'))).toBeUndefined();
    expect(userErrorFromFs(Object.assign(new Error('weird'), { code: 'ERR_SOMETHING' }))).toBeUndefined();
    expect(userErrorFromFs(undefined)).toBeUndefined();
  });

  it('the CLI: --out below a file and --out a symlink loop end in one line', () => {
    expectRefusal(punet(['compile-and-train', TINY_SPEC, '--out', join(dir, 'file', 'run')]), 1, /file\/run: a part of the path is a file where a folder was expected; fix the path \(ENOTDIR/);
    expectRefusal(punet(['compile-and-train', TINY_SPEC, '--out', join(dir, 'loop-a')]), 1, /--out .*loop-a is a broken symbolic link/);
  });
});

describe('case 10: extends of a file that is not a spec', () => {
  it('extends "/etc/passwd" is refused without echoing a line of it', () => {
    const spec = join(dir, 'steal.punet');
    writeFileSync(spec, 'extends "/etc/passwd"\nmodel "x" { }\n');
    const r = punet(['check', spec]);
    expectRefusal(r, 1, /extends must name a \.punet spec file, not '(\.\.\/)*etc\/passwd'/);
    const firstLine = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    expect(r.stderr + r.stdout).not.toContain(firstLine);
  });
});
