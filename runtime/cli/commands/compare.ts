/**
 * `punet compare RUN_OR_SWEEP...`: runs side by side, grouped into variants (same spec apart
 * from the seed): per metric and sample count, mean +- 95% CI over seeds, and paired per-image
 * differences against the first variant with a bootstrap CI and a sign test.
 */
import { writeFileSync } from 'node:fs';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import { parseCommandArgs, PLUGIN_FLAG, pluginFlags, pluginHelp } from '../args.js';
import { EXIT, UserError } from '../errors.js';
import { compareRuns } from '../../compare/analyze.js';
import { comparisonHtml, formatComparison } from '../../compare/format.js';
import { expandRunArgs, readRun, recomputePerImage } from '../../compare/runs.js';
import { isSweepDir, SWEEP_FILES } from '../../sweep/manifest.js';

export const summary = 'compare runs or sweeps: mean +- 95% CI over seeds, paired per-image differences, HTML page';

const HELP = `usage: punet compare RUN_OR_SWEEP... [--html FILE] [--json]

Groups the runs (run folders, or sweep folders for all their finished runs) into variants:
runs whose specs differ only in train.seed. For every metric and sample count in their
eval.json it prints each variant's mean over seeds with a 95% t interval and, for every other
variant against the first one, the mean per-image difference on the same test images (runs
paired by seed) with a 95% paired bootstrap interval and an exact sign test.
Per-image values come from eval.json when it has them; otherwise they are recomputed from the
evaluated checkpoint (same seed and noise stream) and cached in RUN/compare/per-image.json.

options:
  --html FILE   write the self-contained page (the runs' curves overlaid and the tables) to FILE
                (default: compare.html in the folder holding all the compared runs, e.g.
                runs/compare.html for runs/a and runs/b, SWEEP/compare.html for a sweep: the page
                stays with the runs it describes, not wherever the command was started; a later
                compare of runs in that folder replaces it, so give --html to keep both)
  --json        print the comparison as JSON instead of tables
  --samples N,M only these sample counts (default: every count all runs have)
  --metrics A,B only these metrics (default: every metric all runs have)
  --trust-plugins  recompute with the runs' plugins even if their files changed since training
${pluginHelp(16)}
  -h, --help    this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('compare', argv, { html: { type: 'string' }, json: { type: 'boolean' }, samples: { type: 'string' }, metrics: { type: 'string' }, 'trust-plugins': { type: 'boolean' }, ...PLUGIN_FLAG }, HELP);
  if (!args) return EXIT.ok;
  if (!args.positionals.length) throw new UserError(`compare: give run or sweep folders\n\n${HELP}`, EXIT.usage);
  const note = (s: string) => process.stderr.write(s);
  const dirs = expandRunArgs(args.positionals);
  const html = resolve(args.values.html ?? defaultPagePath(dirs));
  const runs = [];
  for (const dir of dirs) {
    let r;
    try {
      r = readRun(dir);
    } catch (e) {
      throw new UserError(`compare: cannot read ${dir}: ${(e as Error).message}`);
    }
    runs.push(await recomputePerImage(r, note, { trustPlugins: Boolean(args.values['trust-plugins']), cliPlugins: pluginFlags(args.values) }));
  }
  const full = compareRuns(runs);
  const samples = listFlag(args.values.samples);
  const metrics = listFlag(args.values.metrics);
  const comparison = {
    ...full,
    tables: full.tables.filter((t) => (!samples || samples.includes(String(t.samples))) && (!metrics || metrics.includes(t.metric))),
  };
  if (!comparison.tables.length && full.tables.length) {
    const have = [...new Set(full.tables.map((t) => `${t.metric}@${t.samples}`))].join(', ');
    throw new UserError(`compare: --samples/--metrics leave no table; the runs have ${have}`, EXIT.usage);
  }
  try {
    writeFileSync(html, comparisonHtml(comparison, runs));
  } catch (e) {
    throw new UserError(`compare: cannot write the page ${html} (${(e as Error).message.split('\n')[0]}); choose another file with --html FILE`);
  }
  if (args.values.json) process.stdout.write(JSON.stringify({ ...comparison, html }, jsonNumbers, 2) + '\n');
  else process.stdout.write(`${formatComparison(comparison)}\n\npage: ${html}\n`);
  return EXIT.ok;
}

/** compare.html in the deepest folder holding every run (a sweep's own folder for its runs). */
export function defaultPagePath(runDirs: string[]): string {
  let common = dirname(runDirs[0]!);
  for (const dir of runDirs) while (dir !== common && !dir.startsWith(common.endsWith(sep) ? common : common + sep)) common = dirname(common);
  if (basename(common) === SWEEP_FILES.runs && isSweepDir(dirname(common))) common = dirname(common);
  if (common === parse(common).root) throw new UserError('compare: the runs share no folder but the file-system root; say where the page goes with --html FILE', EXIT.usage);
  return join(common, 'compare.html');
}

function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((x) => x.trim()).filter(Boolean);
}

/** NaN and infinities are not JSON: null. */
function jsonNumbers(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}
