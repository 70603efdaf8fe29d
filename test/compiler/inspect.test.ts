import { afterEach, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { run } from '../../runtime/cli/commands/inspect.js';
import { compileErrorDiagnostic } from '../../compiler/locate.js';
import { CompileError } from '../../compiler/errors.js';
import { UserError } from '../../runtime/cli/errors.js';
import { loadSpec } from '../../spec/index.js';
import { compileModel } from '../../compiler/compile.js';
import { createRegistry } from '../../plugins/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const contractJson = here('../../docs/contract/prob-unet-lidc.resolved.json');
const lidcPunet = here('../../examples/prob-unet-lidc.punet');
const tinyPunet = here('../../examples/prob-unet-tiny.punet');

async function captured(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await run(argv);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('punet inspect', () => {
  it('reports the contract counts and shapes from a resolved JSON', async () => {
    const { code, out } = await captured([contractJson, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    const counts = Object.fromEntries(report.blocks.map((b: { role: string; parameters: number }) => [b.role, b.parameters]));
    expect(counts).toEqual({ unet: 2_260_128, prior: 1_367_820, posterior: 1_368_396, latent: 0, combiner: 3_426 });
    expect(report.totalParameters).toBe(4_999_770);
    expect(report.blocks[0].outputShapes.features).toEqual(['B', 128, 128, 32]);
    // FLOPs of the U-Net's first conv alone, by hand: 2 * 9 * 1 * 32 * 128^2 + 2 * 32 * 128^2 (bias, relu).
    expect(report.blocks[0].flopsPerImage).toBeGreaterThan(2 * 9 * 32 * 128 * 128 + 2 * 32 * 128 * 128);
  });

  it('prints a table for a .punet file with the same counts', async () => {
    const { code, out } = await captured([lidcPunet]);
    expect(code).toBe(0);
    expect(out).toMatch(/unet\s+unet\s+2,260,128/);
    expect(out).toMatch(/prior\s+conv-encoder\s+1,367,820/);
    expect(out).toMatch(/posterior\s+conv-encoder\s+1,368,396/);
    expect(out).toMatch(/combiner\s+fcomb\s+3,426/);
    expect(out).toMatch(/total\s+4,999,770/);
  });

  it('a missing file is a user error', async () => {
    await expect(run(['/nonexistent/spec.json'])).rejects.toBeInstanceOf(UserError);
  });
});

describe('compile errors map to source positions', () => {
  it('finds the option where it was written in the extends chain', async () => {
    const { diagnostic } = compileErrorDiagnostic(new CompileError('unet.widths', 'no good'), tinyPunet);
    expect(diagnostic.range?.file).toBe(tinyPunet);
    expect(diagnostic.range?.start.line).toBe(11);
    expect(diagnostic.message).toBe('unet.widths: no good');
  });

  it('falls back to the nearest enclosing entry', async () => {
    const { diagnostic } = compileErrorDiagnostic(new CompileError('latent.head_init_std.nothing', 'x'), lidcPunet);
    expect(diagnostic.range?.file).toBe(lidcPunet);
    expect(diagnostic.range?.start.line).toBeGreaterThan(1);
  });
});

describe('the example specs compile', () => {
  it('hierarchical-tiny (a plugin architecture) compiles through the same path', async () => {
    const registry = createRegistry();
    const result = await loadSpec(here('../../examples/hierarchical-tiny.punet'), { registry });
    expect(result.spec, JSON.stringify(result.diagnostics)).toBeDefined();
    const model = compileModel(result.spec!, registry);
    try {
      const [h] = result.spec!.input.size;
      const unet = model.summary.find((b) => b.role === 'unet')!;
      Object.entries(unet.outputShapes).forEach(([name, shape], i) => {
        expect(name).toBe(`level${i}`);
        expect(shape.slice(0, 2)).toEqual([h >> i, h >> i]);
      });
      expect(model.summary.find((b) => b.role === 'combiner')!.outputShapes.logits).toEqual([h, h, result.spec!.input.classes]);
      expect(model.summary.reduce((n, b) => n + b.parameters, 0)).toBe(model.parameterCount);
    } finally {
      model.dispose();
    }
  });

  it('prob-unet-tiny: shapes follow its widths', async () => {
    const registry = createRegistry();
    const result = await loadSpec(tinyPunet, { registry });
    expect(result.spec, JSON.stringify(result.diagnostics)).toBeDefined();
    const model = compileModel(result.spec!, registry);
    try {
      const shapes = Object.fromEntries(model.summary.map((b) => [b.role, b.outputShapes]));
      expect(shapes.unet!.features).toEqual([32, 32, 8]);
      expect(shapes.unet!['encoder.level2']).toEqual([8, 8, 32]);
      expect(shapes.prior!.head).toEqual([12]);
      expect(shapes.combiner!.logits).toEqual([32, 32, 2]);
      const conv = (k: number, i: number, o: number) => k * k * i * o + o;
      const enc = (cin: number) => conv(3, cin, 8) + conv(3, 8, 8) + conv(3, 8, 16) + conv(3, 16, 16) + conv(3, 16, 32) + conv(3, 32, 32);
      const dec = conv(3, 32 + 16, 16) + conv(3, 16, 16) + conv(3, 16 + 8, 8) + conv(3, 8, 8);
      const fcomb = conv(1, 8 + 6, 32) + 2 * conv(1, 32, 32) + conv(1, 32, 2);
      expect(model.parameterCount).toBe(enc(1) + dec + enc(1) + conv(1, 32, 12) + enc(3) + conv(1, 32, 12) + fcomb);
    } finally {
      model.dispose();
    }
  });
});
