/** The CLI on user mistakes: a clear message, a non-zero exit code, never a stack trace. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess, STACK_LINE, tempDir, TINY_SPEC } from './helpers.js';

const train = () => import('../../runtime/cli/commands/compile-and-train.js');
const sample = () => import('../../runtime/cli/commands/sample.js');
const evaluate = () => import('../../runtime/cli/commands/eval.js');

async function expectUserError(load: Parameters<typeof runInProcess>[0], argv: string[], code: number, message: RegExp) {
  const r = await runInProcess(load, argv);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toContain('internal error');
  return r;
}

describe('compile-and-train on bad input', () => {
  it('no SPEC: usage error', () => expectUserError(train, [], 2, /expected one SPEC file, got none/));
  it('two SPECs: usage error', () => expectUserError(train, ['a.punet', 'b.punet'], 2, /expected one SPEC file, got a.punet b.punet/));
  it('unknown flag', () => expectUserError(train, [TINY_SPEC, '--bogus'], 2, /compile-and-train: Unknown option '--bogus'/));
  it('--steps not a number', () => expectUserError(train, [TINY_SPEC, '--steps', 'ten'], 2, /--steps must be a positive integer, got 'ten'/));
  it('--steps 0', () => expectUserError(train, [TINY_SPEC, '--steps', '0'], 2, /--steps must be a positive integer/));
  it('--resume without --out', () => expectUserError(train, [TINY_SPEC, '--resume'], 2, /--resume needs --out RUN_DIR/));
  it('missing spec file', () => expectUserError(train, ['no/such/spec.punet'], 1, /spec file not found: no\/such\/spec.punet/));
  it('a folder as the spec', () => expectUserError(train, [tempDir()], 1, /is a folder; give the path of a \.punet spec file/));

  it('a spec with an error: diagnostics at file:line:col, exit 1', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.punet');
    writeFileSync(file, 'model "bad" {\n  input { size: 16x16 px  channels: 1  classes: 2 }\n  architecture prob-unet\n  unet unet { widths: [4, 8]  convs_per_blok: 1 }\n}\n');
    const r = await expectUserError(train, [file, '--out', join(dir, 'run')], 1, /bad\.punet: \d+ errors? in the spec/);
    expect(r.stderr).toMatch(/bad\.punet:4:\d+: error/);
  });

  it('--data naming neither a folder nor a data source', () =>
    expectUserError(train, [TINY_SPEC, '--data', 'no-such-thing', '--out', join(tempDir(), 'r')], 1, /--data no-such-thing: no such folder, and not a data source name \(known: .*synthetic/));

  it('--data pointing at a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.txt'), 'x');
    await expectUserError(train, [TINY_SPEC, '--data', join(dir, 'x.txt'), '--out', join(dir, 'r')], 1, /is a file; give a folder/);
  });

  it('--resume of a folder that does not exist', () =>
    expectUserError(train, [TINY_SPEC, '--resume', '--out', join(tempDir(), 'missing')], 1, /cannot resume: run folder .* does not exist/));

  it('--backend that does not exist', () =>
    expectUserError(train, [TINY_SPEC, '--backend', 'quantum', '--out', join(tempDir(), 'r')], 2, /--backend quantum: unknown backend; choose one of auto, tensorflow/));
});

describe('sample and eval on bad input', () => {
  it('sample: no RUN', () => expectUserError(sample, [], 2, /sample: expected one RUN folder/));
  it('sample: missing run folder', () => expectUserError(sample, ['no/such/run'], 1, /run folder not found: no\/such\/run/));
  it('sample: a folder that is not a run', () => expectUserError(sample, [tempDir()], 1, /is not a punet run folder \(no spec\.json\)/));
  it('sample: --image and --split together', () => expectUserError(sample, ['r', '--image', 'a.png', '--split', 'test'], 2, /either --image or --split/));
  it('sample: bad -n', () => expectUserError(sample, ['r', '-n', '0'], 2, /--samples must be a positive integer/));
  it('sample: missing image', () => expectUserError(sample, ['r', '--image', 'nope.png'], 1, /image not found: nope\.png/));
  it('sample: bad --checkpoint', () => expectUserError(sample, ['r', '--checkpoint', 'first'], 2, /--checkpoint must be best or last/));
  it('eval: bad --samples list', () => expectUserError(evaluate, ['r', '--samples', '1,x,4'], 2, /--samples must be a comma-separated list of positive integers/));
  it('eval: bad --split', () => expectUserError(evaluate, ['r', '--split', 'holdout'], 2, /--split must be train, val or test, got 'holdout'/));
  it('eval: missing run folder', () => expectUserError(evaluate, ['gone'], 1, /run folder not found: gone/));

  it('eval: a run folder without checkpoints', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ model: 'm', use: [], train: { backend: 'cpu' } }));
    await expectUserError(evaluate, [dir], 1, /has no usable checkpoint yet/);
  });
});
