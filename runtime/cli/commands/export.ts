/**
 * `punet export RUN --format onnx --out model.onnx`: a trained run's sampling path (U-Net
 * features + prior + combiner, z as an input) as a file another runtime loads.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { parseCheckpoint } from './sample.js';

export const summary = 'Export a trained run\'s sampling path as an ONNX graph (z as an input) for other runtimes';

const HELP = `usage: punet export RUN --out FILE [options]

Writes the run's sampling path as one ONNX file: inputs image [batch, H, W, C] (values in
[0, 1]) and z [batch, n, M]; outputs logits [batch, n, H, W, K], prior_mu and prior_sigma
[batch, M]. Draw z = prior_mu + prior_sigma * N(0, 1), or z = prior_mu for the mean
prediction. Supports the flat prob-unet architecture (docs/api.md shows Python and Node use).

options:
  --out FILE           the .onnx file to write
  --format F           onnx (the only format so far; default onnx)
  --checkpoint C       best (validation-selected, the default) or last
  --trust-plugins      load the run's plugins even if their files changed since training
${pluginHelp(23)}
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('export', argv, { out: { type: 'string' }, format: { type: 'string' }, checkpoint: { type: 'string' }, 'trust-plugins': { type: 'boolean' }, ...PLUGIN_FLAG }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UserError(`export: expected one RUN folder, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  const format = values.format ?? 'onnx';
  if (format === 'tfjs') {
    // tfjs's io handlers save only LayersModel/GraphModel objects; punet's model is neither.
    throw new UserError('export: --format tfjs is not supported (tfjs can save only Layers/Graph models); use --format onnx, which tfjs-free runtimes and onnxruntime-web load', EXIT.usage);
  }
  if (format !== 'onnx') throw new UserError(`export: --format must be onnx, got '${format}'`, EXIT.usage);
  if (!values.out) throw new UserError('export: --out FILE is required (e.g. --out model.onnx)', EXIT.usage);
  if (!values.out.toLowerCase().endsWith('.onnx')) throw new UserError(`export: --out must name an .onnx file, got '${values.out}'`, EXIT.usage);
  const which = parseCheckpoint('export', values.checkpoint);

  const { selectBackend } = await import('../../backends/select.js');
  const { openRun } = await import('../../run/session.js');
  const { probUNetToOnnx, ExportUnsupportedError } = await import('../../export/prob-unet-onnx.js');
  const { PUNET_VERSION } = await import('../../run/version.js');
  await selectBackend('cpu'); // export reads weights only: the exact reference backend is enough
  const opened = await openRun(positionals[0]!, which, (s) => process.stderr.write(`warning: ${s}\n`), { trustPlugins: args.values['trust-plugins'] as boolean | undefined, cliPlugins: pluginFlags(args.values) });
  try {
    const step = opened.checkpoint.checkpoint.meta.step;
    let bytes: Uint8Array;
    try {
      bytes = probUNetToOnnx(opened.compiled, { punetVersion: PUNET_VERSION, step, runDir: opened.runDir });
    } catch (e) {
      if (e instanceof ExportUnsupportedError) throw new UserError(`export: ${e.message}`);
      throw e;
    }
    const out = resolve(values.out);
    mkdirSync(dirname(out), { recursive: true });
    // Written beside and renamed: an interrupted export never leaves half a file under the name.
    writeFileSync(`${out}.partial`, bytes);
    renameSync(`${out}.partial`, out);
    process.stdout.write(`${opened.which} checkpoint (step ${step}) -> ${out} (${(bytes.length / 1024).toFixed(1)} KiB, ONNX opset 13)\n`);
  } finally {
    opened.compiled.dispose();
  }
  return EXIT.ok;
}
