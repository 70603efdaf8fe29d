/**
 * Everything the HTML report shows, read from a run folder (runtime/run/folder.ts): the spec as
 * trained, how the run was started, the metrics log split into training steps and validations,
 * every evaluation file, and the figure PNGs in samples/.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { MetricsLog, readJson, runPath } from '../run/folder.js';

/** One training step as logged by the trainer: step, lr, reconstruction, KL, regularization, loss, objective logs. */
export type StepRecord = { step: number } & Record<string, number>;

export interface ValidationRecord {
  step: number;
  ged: number | null;
  samples?: number;
  split?: string;
}

/** One metric at one sample count (older eval.json files have only mean, images, nan). */
export interface EvalStat {
  mean: number | null;
  images: number;
  nan: number;
  std?: number | null;
  ci95?: [number | null, number | null];
  perImage?: Array<number | null>;
}

/** eval.json as written by runtime/sample/report.ts (NaN written as null). */
export interface EvalFile {
  split: string;
  images: number;
  sampleCounts: number[];
  results: Record<string, Record<string, EvalStat>>;
  imageIds?: string[];
  baseline?: Record<string, { results: Record<string, Record<string, EvalStat>> }>;
  skipped?: Array<{ metric: string; reason: string }>;
  checkpoint?: { which: string; step: number };
  latent?: string;
  time?: string;
}

export interface FigureFile {
  /** Path relative to the run folder, e.g. samples/sample-grid.png. */
  name: string;
  path: string;
  /** The same figure as SVG (vector text), when it was written. */
  svgPath?: string;
}

export interface RunReportData {
  runDir: string;
  spec?: Record<string, unknown>;
  /** spec.json could not be parsed: the reason. */
  specError?: string;
  info?: Record<string, unknown>;
  steps: StepRecord[];
  validations: ValidationRecord[];
  /** Other events (resume, interrupted, non-finite) for the timeline note. */
  events: Array<Record<string, unknown>>;
  evals: Array<{ file: string; report: EvalFile }>;
  figures: FigureFile[];
  /** Things that could not be read, shown on the page rather than failing the report. */
  problems: string[];
}

/** samples/ PNGs that are whole figures (not the per-panel PNGs `punet sample` also writes). */
export const FIGURE_PATTERN = /^(?:sample-grid|eval-grid|latent-grid)[A-Za-z0-9._-]*\.png$/;

/** A run file through the runs' one JSON reader; a damaged one becomes its one-line message on the page. */
function readJsonOr(path: string, problems: string[]): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readJson<Record<string, unknown>>(path);
  } catch (e) {
    problems.push((e as Error).message);
    return undefined;
  }
}

export function readRunReportData(runDir: string): RunReportData {
  const problems: string[] = [];
  const spec = readJsonOr(runPath(runDir, 'spec'), problems);
  const info = readJsonOr(runPath(runDir, 'run'), problems);

  const steps: StepRecord[] = [];
  const validations: ValidationRecord[] = [];
  const events: Array<Record<string, unknown>> = [];
  for (const r of new MetricsLog(runPath(runDir, 'metrics')).read()) {
    if (r.event === 'validation' && typeof r.step === 'number') {
      validations.push({ step: r.step, ged: typeof r.ged === 'number' ? r.ged : null, samples: r.samples as number | undefined, split: r.split as string | undefined });
    } else if (r.event === undefined && typeof r.step === 'number' && typeof r.loss === 'number') {
      steps.push(r as StepRecord);
    } else if (r.event !== undefined && r.event !== 'checkpoint') {
      events.push(r);
    }
  }

  const evals: RunReportData['evals'] = [];
  const evalFiles = [
    ...(existsSync(runDir) ? readdirSync(runDir).sort().filter((f) => /^eval(?:-[A-Za-z0-9._-]+)?\.json$/.test(f)) : []),
    // `punet eval` results: RUN/eval/<name>/eval.json
    ...subfolders(join(runDir, 'eval')).map((d) => `eval/${d}/eval.json`).filter((f) => existsSync(join(runDir, f))),
  ];
  for (const file of evalFiles) {
    const report = readJsonOr(join(runDir, file), problems) as EvalFile | undefined;
    if (report && typeof report.results === 'object' && Array.isArray(report.sampleCounts)) evals.push({ file, report });
    else if (report) problems.push(`${file} does not look like a punet evaluation (no results/sampleCounts)`);
  }
  // eval.json (the training-time test evaluation) first.
  evals.sort((a, b) => (a.file === 'eval.json' ? -1 : b.file === 'eval.json' ? 1 : a.file.localeCompare(b.file)));

  return { runDir, spec, info, steps, validations, events, evals, figures: listFigures(runDir), problems };
}

function subfolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * Figure PNGs: RUN/samples (training time), then RUN/samples/<name> (`punet sample`) and
 * RUN/eval/<name> (`punet eval`); sample grids first, then evaluation grids, then latent grids.
 */
export function listFigures(runDir: string): FigureFile[] {
  const folders = [
    runPath(runDir, 'samples'),
    ...subfolders(runPath(runDir, 'samples')).map((d) => join(runPath(runDir, 'samples'), d)),
    ...subfolders(join(runDir, 'eval')).map((d) => join(runDir, 'eval', d)),
  ];
  const rank = (n: string) => (n.startsWith('sample-grid') ? 0 : n.startsWith('eval-grid') ? 1 : 2);
  const out: FigureFile[] = [];
  for (const dir of folders) {
    if (!existsSync(dir)) continue;
    const rel = relative(runDir, dir).split(sep).join('/');
    for (const f of readdirSync(dir).filter((x) => FIGURE_PATTERN.test(x)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
      const svg = join(dir, f.replace(/\.png$/, '.svg'));
      out.push({ name: `${rel}/${f}`, path: join(dir, f), ...(existsSync(svg) ? { svgPath: svg } : {}) });
    }
  }
  return out;
}
