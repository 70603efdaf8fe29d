import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodePng, encodePng, readPng, writePng } from '../../runtime/data/png.js';
import { DataError } from '../../runtime/data/errors.js';
import { UserError } from '../../runtime/cli/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'punet-png-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PNGs assembled by hand (formats pngjs cannot write), with the standard CRC-32. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(payload.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'ascii'), payload])), 0);
  return Buffer.concat([head, payload, crc]);
}
/** A 16-bit grayscale PNG (colour type 0, depth 16) with the given samples, one row. */
function gray16(samples: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(samples.length, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 16;
  ihdr[9] = 0;
  const raw = Buffer.alloc(1 + samples.length * 2);
  samples.forEach((s, i) => raw.writeUInt16BE(s, 1 + i * 2)); // filter byte 0 = none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** An 8-bit palette PNG (colour type 3), one row of indices. */
function palettePng(indices: number[], palette: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(indices.length, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', palette),
    chunk('IDAT', deflateSync(Uint8Array.of(0, ...indices))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

describe('png', () => {
  it('round-trips every channel count byte for byte', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const width = 5;
      const height = 3;
      const data = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37 + channels) % 256);
      const back = decodePng(encodePng({ width, height, channels, data }), 'mem.png');
      expect(back).toMatchObject({ width, height, channels, bitDepth: 8 });
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it('keeps 1-channel images as grayscale PNGs (colour type 0 in the header)', () => {
    const bytes = encodePng({ width: 2, height: 2, channels: 1, data: Uint8Array.of(0, 1, 2, 3) });
    expect(bytes[24]).toBe(8); // bit depth byte of IHDR
    expect(bytes[25]).toBe(0); // colour type byte of IHDR
  });

  it('scales 16-bit samples to 8 bits: round(v * 255 / 65535)', () => {
    const samples = [0, 257, 32768, 65535, 1000];
    const img = decodePng(gray16(samples), 'g16.png');
    expect(img.bitDepth).toBe(16);
    expect(img.channels).toBe(1);
    expect(Array.from(img.data)).toEqual(samples.map((s) => Math.floor((s * 255) / 65535 + 0.5)));
  });

  it('reads a palette PNG whose colours are all gray as 1 channel, a coloured palette as 3', () => {
    const grayPalette = Uint8Array.of(0, 0, 0, 255, 255, 255);
    const colourPalette = Uint8Array.of(0, 0, 0, 255, 0, 0);
    const indices = [1, 0, 1]; // 8-bit indices, one row of 3 pixels
    const gray = decodePng(palettePng(indices, grayPalette), 'gray-palette.png');
    expect(gray.channels).toBe(1);
    expect(Array.from(gray.data)).toEqual([255, 0, 255]);
    const colour = decodePng(palettePng(indices, colourPalette), 'colour-palette.png');
    expect(colour.channels).toBe(3);
    expect(Array.from(colour.data)).toEqual([255, 0, 0, 0, 0, 0, 255, 0, 0]);
  });

  it('writePng is atomic and leaves no temp file; readPng reads it back', () => {
    const path = join(dir, 'a.png');
    writePng(path, { width: 1, height: 2, channels: 1, data: Uint8Array.of(7, 250) });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(Array.from(readPng(path).data)).toEqual([7, 250]);
  });

  it('a corrupt or truncated PNG is a DataError (a UserError) naming the file', () => {
    const good = encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(3) });
    const cases: [string, Uint8Array][] = [
      ['garbage.png', Buffer.from('not a png at all')],
      ['truncated.png', good.subarray(0, 40)],
      ['empty.png', new Uint8Array(0)],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      let caught: unknown;
      try {
        readPng(path);
      } catch (err) {
        caught = err;
      }
      expect(caught, name).toBeInstanceOf(DataError);
      expect(caught).toBeInstanceOf(UserError);
      expect((caught as DataError).message).toContain(path);
      expect((caught as DataError).file).toBe(path);
    }
    expect(() => readPng(join(dir, 'missing.png'))).toThrow(/missing\.png.*ENOENT/);
    expect(readFileSync(join(dir, 'garbage.png')).length).toBeGreaterThan(0);
  });
});

describe('png grayscale read', () => {
  it('returns BT.601 luma of colour pixels in one pass, and gray as is', () => {
    const rgb = encodePng({ width: 2, height: 1, channels: 3, data: Uint8Array.of(255, 0, 0, 10, 20, 30) });
    const g = decodePng(rgb, 'rgb.png', { grayscale: true });
    expect(g.channels).toBe(1);
    expect(Array.from(g.data)).toEqual([76, 18]); // 0.299*255 = 76.2; 0.299*10 + 0.587*20 + 0.114*30 = 18.15
    const gray = encodePng({ width: 2, height: 1, channels: 1, data: Uint8Array.of(3, 250) });
    expect(Array.from(decodePng(gray, 'g.png', { grayscale: true }).data)).toEqual([3, 250]);
  });
});
