/**
 * Names for the variants of a comparison, from the runs' own specs (spec.json, as trained with
 * every override applied), not from how they were started: the model name, plus, where several
 * variants share that name, the settings in which they differ (`prob-unet-tiny lr=0.003`).
 * Works the same for runs started by hand, with `--set`, `--steps`, `--data` or by a sweep.
 */
import type { ResolvedSpec } from '../../spec/types.js';

/** Differences shown in one label before the rest are summed up as "+k more". */
const MAX_SHOWN = 4;

/** One label per variant spec (seeds and sweep sections are ignored). */
export function variantLabels(specs: readonly ResolvedSpec[]): string[] {
  const flat = specs.map((s) => settings(s));
  return specs.map((spec, i) => {
    const peers = specs.flatMap((s, j) => (s.model === spec.model ? [flat[j]!] : []));
    if (peers.length < 2) return spec.model;
    const keys = [...new Set(peers.flatMap((p) => [...p.keys()]))];
    const differing = keys.filter((k) => new Set(peers.map((p) => p.get(k) ?? '')).size > 1);
    const names = shortNames(differing);
    const parts = differing.map((k, d) => `${names[d]}=${flat[i]!.get(k) ?? 'unset'}`);
    const shown = parts.length > MAX_SHOWN ? [...parts.slice(0, MAX_SHOWN), `+${parts.length - MAX_SHOWN} more`] : parts;
    return [spec.model, ...shown].join(' ');
  });
}

/** Leaf settings of a spec as dotted path -> printed value, in spec order; arrays are leaves. */
function settings(spec: ResolvedSpec): Map<string, string> {
  const { sweep: _sweep, train, ...rest } = spec;
  const { seed: _seed, ...trainRest } = train;
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else if (path.length && value !== undefined) out.set(path.join('.'), typeof value === 'string' ? value : JSON.stringify(value));
  };
  walk({ ...rest, train: trainRest }, []);
  return out;
}

/** The shortest dotted suffix of each path that no other path shares: `lr`, but `unet.widths` and `prior.widths`. */
function shortNames(paths: string[]): string[] {
  const parts = paths.map((p) => p.split('.'));
  return parts.map((p) => {
    for (let k = 1; k < p.length; k++) {
      const suffix = p.slice(-k).join('.');
      if (parts.filter((q) => q.slice(-k).join('.') === suffix).length === 1) return suffix;
    }
    return p.join('.');
  });
}
