/**
 * `punet report RUN`: one self-contained HTML page for a run: spec, training curves, the
 * evaluation table(s) and the figures. Renders a sample grid first when the run has none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { intFlag, parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { writePng } from '../../data/png.js';
import { runPath } from '../../run/folder.js';
import { loadData, openRun, checkBackendFlag, readRunSpec, useBackend } from '../../run/session.js';
import { listCheckpoints } from '../../run/checkpoint.js';
import { renderSampleGrid } from '../../figures/run-figures.js';
import { writeReport } from '../../report/write.js';
import { parseCheckpoint } from './sample.js';

export const summary = 'Write a self-contained HTML report of a run: spec, training curves, evaluation, figures';

const HELP = `usage: punet report RUN [options]

Writes one HTML page with no external resources (inline CSS, charts as inline SVG, images as
data: URIs): the run's summary, its evaluation table(s) (eval*.json and RUN/eval/*/eval.json:
mean with 95% CI, beside the prior-mean baseline), training curves from metrics.jsonl (loss,
reconstruction, KL, validation GED, learning rate, ...), the figures in RUN/samples,
RUN/samples/* and RUN/eval/* (sample-grid*, eval-grid*, latent-grid*; as vector SVG when
written, else the PNG at native resolution) and the spec.

When the run has no sample grid yet, one is rendered first from the run's checkpoint and test
split and written to RUN/samples/sample-grid.png (skip this with --no-render).

options:
  --out FILE.html      output file (default: RUN/report.html)
  --no-render          do not render a missing sample grid (no model is loaded)
  --limit K            images in a rendered grid (default: 6)
  -n, --samples N      samples per image in a rendered grid (default: 8)
  --checkpoint WHICH   checkpoint for a rendered grid: best (the default) or last
  --backend B          auto, tensorflow, webgpu, wasm or cpu (default: the run's)
  --trust-plugins      load the run's plugins even if their files changed since training
${pluginHelp(23)}
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('report', argv, {
    out: { type: 'string' },
    'no-render': { type: 'boolean' },
    limit: { type: 'string' },
    samples: { type: 'string', short: 'n' },
    checkpoint: { type: 'string' },
    backend: { type: 'string' },
    'trust-plugins': { type: 'boolean' },
    ...PLUGIN_FLAG,
  }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UserError(`report: expected one RUN folder, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  const limit = intFlag('report', 'limit', values.limit) ?? 6;
  const n = intFlag('report', 'samples', values.samples) ?? 8;
  const which = parseCheckpoint('report', values.checkpoint);
  checkBackendFlag(values.backend); // used only if figures must be drawn: check it now anyway
  if (values.out !== undefined && !/\.html?$/i.test(values.out)) throw new UserError(`report: --out must name an .html file, got '${values.out}'`, EXIT.usage);

  const runDir = resolve(positionals[0]!);
  if (!existsSync(runDir)) throw new UserError(`run folder not found: ${positionals[0]}`);
  if (!existsSync(runPath(runDir, 'spec'))) throw new UserError(`${positionals[0]} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  const out = (s: string) => process.stdout.write(s);
  const warn = (s: string) => process.stderr.write(`warning: ${s}\n`);

  const hasCheckpoint = listCheckpoints(runPath(runDir, 'checkpoints')).length > 0 || listCheckpoints(runPath(runDir, 'best')).length > 0;
  const written = await writeReport(runDir, {
    out: values.out === undefined ? undefined : resolve(values.out),
    renderMissing:
      values['no-render'] || !hasCheckpoint
        ? undefined
        : async () => {
            const runSpec = readRunSpec(runPath(runDir, 'spec'));
            await useBackend(values.backend ?? runSpec.train.backend, values.backend ? '--backend' : 'train.backend in the run', out);
            const opened = await openRun(runDir, which, warn, { trustPlugins: values['trust-plugins'] as boolean | undefined, cliPlugins: pluginFlags(values) });
            try {
              const dataset = await loadData(opened.spec, opened.registry, opened.info.specDir || opened.runDir);
              const split = dataset.splits.test.length ? 'test' : dataset.splits.val.length ? 'val' : 'train';
              const items = dataset.splits[split].slice(0, limit);
              const figure = await renderSampleGrid(opened.compiled.segmenter, dataset, {
                items,
                n,
                seed: opened.spec.train.seed,
                batchSize: opened.spec.train.batch_size,
                style: { classes: opened.spec.input.classes },
              });
              const file = join(runPath(runDir, 'samples'), 'sample-grid.png');
              mkdirSync(runPath(runDir, 'samples'), { recursive: true });
              writePng(file, figure);
              const note = `samples/sample-grid.png rendered for this report: ${items.length} ${split} images x ${n} samples, ${opened.which} checkpoint (step ${opened.checkpoint.checkpoint.meta.step}).`;
              out(`${note}\n`);
              return note;
            } finally {
              opened.compiled.dispose();
            }
          },
  });
  for (const p of written.data.problems) warn(p);
  const d = written.data;
  out(`report: ${written.path} (${(written.bytes / 1024).toFixed(0)} KiB; ${d.steps.length} training steps, ${d.validations.length} validations, ${d.evals.length} evaluation file(s), ${d.figures.length} figure(s))\n`);
  return EXIT.ok;
}
