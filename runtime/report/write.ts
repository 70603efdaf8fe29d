/**
 * `punet report` minus the command line: read the run folder, optionally render the missing
 * sample grid (via a caller-supplied renderer, so this module needs no model), build the page
 * and write it atomically.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildReportHtml } from './build.js';
import { listFigures, readRunReportData, type RunReportData } from './run-data.js';

export interface WriteReportOptions {
  /** Output file (default RUN/report.html). */
  out?: string;
  /**
   * Called when the run has no sample or evaluation grid: should write one into RUN/samples
   * and return a note for the page (or throw; the failure is shown on the page, not fatal).
   */
  renderMissing?: (data: RunReportData) => Promise<string>;
  now?: Date;
}

export interface WrittenReport {
  path: string;
  data: RunReportData;
  notes: string[];
  bytes: number;
}

export function hasSampleFigure(data: RunReportData): boolean {
  return data.figures.some((f) => /^samples\/(?:sample|eval)-grid/.test(f.name));
}

export async function writeReport(runDir: string, o: WriteReportOptions = {}): Promise<WrittenReport> {
  const data = readRunReportData(runDir);
  const notes: string[] = [];
  if (!hasSampleFigure(data) && o.renderMissing) {
    try {
      notes.push(await o.renderMissing(data));
      data.figures = listFigures(runDir);
    } catch (e) {
      data.problems.push(`could not render a sample grid: ${(e as Error).message}`);
    }
  }
  const html = buildReportHtml(data, { notes, now: o.now });
  const path = o.out ?? join(runDir, 'report.html');
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, html);
  renameSync(tmp, path);
  return { path, data, notes, bytes: Buffer.byteLength(html) };
}
