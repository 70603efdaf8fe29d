/** Shared fixtures for the compiler tests: the LIDC contract spec and a tiny variant of it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResolvedSpec } from '../../spec/types.js';

export function lidcSpec(): ResolvedSpec {
  const path = fileURLToPath(new URL('../../docs/contract/prob-unet-lidc.resolved.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as ResolvedSpec;
}

/** The LIDC spec shrunk to 16x16 inputs and 3 small levels: fast on the cpu backend. */
export function tinySpec(overrides: { size?: [number, number]; widths?: number[]; classes?: number; latent?: number } = {}): ResolvedSpec {
  const spec = lidcSpec();
  const widths = overrides.widths ?? [4, 8, 8];
  spec.input = { size: overrides.size ?? [16, 16], channels: 1, classes: overrides.classes ?? 2 };
  spec.unet = { ...spec.unet!, widths };
  spec.prior = { ...spec.prior!, widths };
  spec.posterior = { ...spec.posterior!, widths };
  spec.latent = { ...spec.latent!, size: overrides.latent ?? 3 };
  spec.combiner = { ...spec.combiner!, width: widths[0] };
  return spec;
}
