/**
 * Making a sweep: variants (spec files) x grid (override values) x seeds, each combination
 * checked like `compile-and-train SPEC --set ...` would check it, written to the sweep folder as
 * a manifest and one resolved spec per task. Making the same sweep again is a no-op; making a
 * different one in the same folder is refused (its runs would be mixed up).
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../cli/errors.js';
import { writeJsonAtomic } from '../run/folder.js';
import { loadSpecOrFail } from '../run/session.js';
import { resolveSpecifier } from '../../compiler/plugin-loader.js';
import { PUNET_VERSION } from '../run/version.js';
import type { ResolvedSpec, SweepSpec } from '../../spec/types.js';
import { isSweepDir, logsDir, readManifest, taskSpecPath, writeManifest, type GridAxis, type SweepManifest, type SweepTask } from './manifest.js';

/** More tasks than this is almost certainly a typo in a grid (and a huge array job). */
export const MAX_TASKS = 10_000;

/** `path=v1,v2,...`: commas inside [ ], ( ) or quotes belong to the value (`widths=[8,16],[16,32]`). */
export function parseGridAxis(text: string, where: string): GridAxis {
  const eq = text.indexOf('=');
  const path = eq > 0 ? text.slice(0, eq).trim() : '';
  if (!path) throw new UserError(`${where} '${text}': expected PATH=V1,V2,... e.g. train.optimizer.lr=1e-3,1e-2`, 2);
  const values: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of text.slice(eq + 1)) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '[' || ch === '(')) depth++;
    else if (!quoted && (ch === ']' || ch === ')')) depth--;
    if (ch === ',' && depth === 0 && !quoted) {
      values.push(current.trim());
      current = '';
    } else current += ch;
  }
  values.push(current.trim());
  if (values.some((v) => !v)) throw new UserError(`${where} '${text}': an empty value; write PATH=V1,V2 with no empty entries`, 2);
  return { path, values };
}

export interface PlanOptions {
  /** Spec files given on the command line (variants); the first one's `sweep` section applies. */
  specs: string[];
  grid?: string[];
  seeds?: number;
  /** `--plugin` modules (relative to the current directory). */
  plugins?: string[];
  out: string;
  err: (s: string) => void;
}

/** Writes (or reopens) the sweep folder and returns its manifest. */
export async function planSweep(o: PlanOptions): Promise<SweepManifest> {
  const out = resolve(o.out);
  // Tasks may run in another folder (Slurm, Kubernetes): they get the plugins' absolute files.
  const plugins = (o.plugins ?? []).map((p) => resolveSpecifier(p, { fromDir: process.cwd(), at: `--plugin ${p}` }));
  const load = (spec: string, err: (s: string) => void, overrides: string[] = []) => loadSpecOrFail(spec, err, overrides, plugins);
  const first = await load(o.specs[0]!, o.err);
  const section: Partial<SweepSpec> = first.spec.sweep ?? {};
  const specs = [
    ...o.specs.map((s) => resolve(s)),
    ...(o.specs.length === 1 ? (section.variants ?? []).map((v) => resolve(dirname(first.file), v)) : []),
  ];
  const grid = (o.grid ?? section.grid ?? []).map((g, i) => parseGridAxis(g, o.grid ? '--grid' : `sweep.grid[${i}] in ${basename(first.file)}`));
  const seeds = o.seeds ?? section.seeds ?? 1;
  const combos = grid.reduce<string[][]>((acc, axis) => acc.flatMap((c) => axis.values.map((v) => [...c, `${axis.path}=${v}`])), [[]]);
  const count = specs.length * combos.length * seeds;
  if (count > MAX_TASKS) throw new UserError(`this sweep has ${count} tasks (more than ${MAX_TASKS}); use fewer grid values or seeds`, 2);

  const tasks: SweepTask[] = [];
  const resolved: ResolvedSpec[] = [];
  const shown = new Set<string>();
  const once = (spec: string, overrides: string[]) => (text: string) => {
    // Every task of a variant inherits its warnings: show each one once.
    if (!shown.has(text)) prefixed(o.err, spec, overrides)(text);
    shown.add(text);
  };
  // Seed-major order: a sweep stopped part way (or a pool working through it in order) already
  // has every variant at its first seeds, which is what a comparison needs first.
  const bases = new Map<string, ResolvedSpec>();
  for (let s = 0; s < seeds; s++) {
    for (const spec of specs) {
      for (const combo of combos) {
        const key = JSON.stringify([spec, combo]);
        // The variant's own seed is the first; the others follow it.
        const base = bases.get(key) ?? (await load(spec, once(spec, combo), combo)).spec;
        bases.set(key, base);
        const seed = base.train.seed + s;
        const overrides = [...combo, `train.seed=${seed}`];
        const index = tasks.length;
        const loaded = s === 0 ? base : (await load(spec, once(spec, overrides), overrides)).spec;
        tasks.push({ index, name: taskName(index, count, loaded.model, combo, seed), variant: loaded.model, spec, overrides, seed });
        resolved.push(loaded);
      }
    }
  }
  const manifest: SweepManifest = { format: 'punet-sweep', version: 1, created: new Date().toISOString(), punetVersion: PUNET_VERSION, specs, grid, seeds, tasks, submissions: [], ...(plugins.length ? { plugins } : {}) };
  if (isSweepDir(out)) return reopen(out, manifest);
  mkdirSync(logsDir(out), { recursive: true });
  tasks.forEach((t, i) => {
    mkdirSync(dirname(taskSpecPath(out, t)), { recursive: true });
    writeJsonAtomic(taskSpecPath(out, t), resolved[i]);
  });
  writeManifest(out, manifest);
  return manifest;
}

/** The same plan again (e.g. to submit it once more) keeps the folder; another plan is refused. */
function reopen(out: string, planned: SweepManifest): SweepManifest {
  const existing = readManifest(out);
  const key = (m: SweepManifest) => JSON.stringify(m.tasks);
  if (key(existing) !== key(planned)) {
    throw new UserError(`${out} already holds a different sweep (${existing.tasks.length} tasks); choose another --out, or run 'punet sweep status ${out}'`);
  }
  return existing;
}

function prefixed(err: (s: string) => void, spec: string, overrides: string[]): (s: string) => void {
  return (s) => err(`${basename(spec)}${overrides.length ? ` with --set ${overrides.join(' --set ')}` : ''}:\n${s}`);
}

/** `003-prob-unet-tiny-lr=1e-3-seed42`: sortable, readable, safe as a folder name. */
function taskName(index: number, count: number, model: string, combo: string[], seed: number): string {
  const width = String(Math.max(count - 1, 0)).length;
  const settings = combo.map((c) => c.replace(/^.*\.(?=[^.=]*=)/, '')).join('-');
  const raw = [String(index).padStart(width, '0'), model, settings, `seed${seed}`].filter(Boolean).join('-');
  return raw.replace(/[^A-Za-z0-9._=+-]+/g, '_').slice(0, 120);
}
