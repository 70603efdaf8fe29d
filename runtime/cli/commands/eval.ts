/** `punet eval RUN`: GED, Hungarian-matched IoU, S_NCC, diversity and mode TV on a split. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { runPath } from '../../run/folder.js';
import { loadData, openRun, readRunSpec, useBackend } from '../../run/session.js';
import { evaluateAndWrite, jsonSafe } from '../../sample/report.js';
import { parseCheckpoint, parseSplit } from './sample.js';
import { checkResultName, resultName } from '../../sample/output-folder.js';

export const summary = "Evaluate a trained run on a split: GED, Hungarian IoU, NCC, diversity, mode TV";

const HELP = `usage: punet eval RUN [options]

Draws prior samples for every image of a split and scores them with the metrics in the spec's
eval section: per image, mean, std and a 95% bootstrap CI over images, beside the prior-mean
(deterministic) baseline. Writes RUN/eval/NAME/eval.json and eval-grid.png, replacing only an
earlier evaluation of the same NAME; the training-time RUN/eval.json is never touched.
Samples are drawn in blocks of 16 and every count scores a prefix of them, so GED at 4 samples
is the same whichever list --samples gives.

options:
  --samples LIST       sample counts, e.g. 1,4,8,16 (default: the spec's eval.samples)
  --name NAME          results folder RUN/eval/NAME (default: from the options, e.g. test-best-n1_4_8_16)
  --no-baseline        skip the prior-mean baseline
  --split SPLIT        train, val or test (default: test)
  --checkpoint WHICH   best (the default) or last
  --seed N             sampling seed (default: the run's seed)
  --backend B          auto, tensorflow, webgpu, wasm or cpu (default: the run's)
  --prior-mean         every sample decodes the prior MEAN (one deterministic prediction):
                       the deterministic baseline the sampled GED should beat
  --json               print the report as JSON instead of a table
  --trust-plugins      load the run's plugins even if their files changed since training
${pluginHelp(23)}
  -h, --help           this help
`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('eval', argv, {
    samples: { type: 'string' },
    split: { type: 'string' },
    checkpoint: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
    'prior-mean': { type: 'boolean' },
    'no-baseline': { type: 'boolean' },
    name: { type: 'string' },
    'trust-plugins': { type: 'boolean' },
    ...PLUGIN_FLAG,
  }, HELP);
  if (!args) return EXIT.ok;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw new UserError(`eval: expected one RUN folder, got ${positionals.length ? positionals.join(' ') : 'none'}\n\n${HELP.trimEnd()}`, EXIT.usage);
  const split = parseSplit('eval', values.split ?? 'test');
  const which = parseCheckpoint('eval', values.checkpoint);
  const counts = values.samples === undefined ? undefined : parseCounts(values.samples);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new UserError(`eval: --seed must be a non-negative integer, got '${values.seed}'`, EXIT.usage);

  if (values.name !== undefined) checkResultName('eval: --name', values.name);
  const runDir = positionals[0]!;
  if (!existsSync(runDir)) throw new UserError(`run folder not found: ${runDir}`);
  if (!existsSync(runPath(runDir, 'spec'))) throw new UserError(`${runDir} is not a punet run folder (no spec.json); give the folder compile-and-train printed`);
  // With --json, stdout carries only the JSON: the backend line goes to stderr.
  const info = (s: string) => (values.json ? process.stderr : process.stdout).write(s);
  const runSpec = readRunSpec(runPath(runDir, 'spec'));
  await useBackend(values.backend ?? runSpec.train.backend, values.backend ? '--backend' : 'train.backend in the run', info);

  const opened = await openRun(runDir, which, (s) => process.stderr.write(`warning: ${s}\n`), { trustPlugins: values['trust-plugins'] as boolean | undefined, cliPlugins: pluginFlags(values) });
  try {
    const sampleCounts = [...new Set(counts ?? opened.spec.eval.samples)].sort((a, b) => a - b);
    // Named by the checkpoint really used (a run without validation has no best one).
    const name = values.name ?? resultName([split, opened.which, `n${sampleCounts.join('_')}`, values['prior-mean'] && 'prior-mean', seed !== undefined && `seed${seed}`]);
    const dataset = await loadData(opened.spec, opened.registry, opened.info.specDir || opened.runDir);
    if (!dataset.splits[split].length) throw new UserError(`the run's data has no ${split} images`);
    const written = await evaluateAndWrite(opened.compiled.segmenter, dataset, opened.spec, opened.registry, {
      split,
      sampleCounts,
      runDir: opened.runDir,
      checkpoint: { which: opened.which, step: opened.checkpoint.checkpoint.meta.step },
      seed,
      perScale: values['prior-mean'] ? ['mean'] : undefined,
      outDir: join(opened.runDir, 'eval', name),
      baseline: !values['no-baseline'],
    });
    if (values.json) process.stdout.write(JSON.stringify(jsonSafe(written.report), null, 2) + '\n');
    else process.stdout.write(`${written.table}\nwritten to ${written.path}\n`);
  } finally {
    opened.compiled.dispose();
  }
  return EXIT.ok;
}

function parseCounts(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const counts = parts.map(Number);
  if (!parts.length || counts.some((n, i) => !parts[i] || !Number.isInteger(n) || n < 1)) {
    throw new UserError(`eval: --samples must be a comma-separated list of positive integers (e.g. 1,4,8,16), got '${text}'`, EXIT.usage);
  }
  return counts;
}
