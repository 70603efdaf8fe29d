/**
 * `--image PNG` of `punet sample` and `punet latent-grid`: one image prepared like the run's
 * data (the import's crop, resize and intensity window, then input.normalize), each step
 * printed. When the run's data cannot be loaded the image is still prepared, without the import
 * rules, and a warning says so.
 */
import { existsSync } from 'node:fs';
import { UserError } from './errors.js';
import type { Dataset } from '../data/types.js';
import { loadData, type OpenedRun } from '../run/session.js';
import { prepareImage } from '../sample/image-input.js';

/** Refuses a missing file before the backend and the run are loaded. */
export function checkImageFlag(command: string, file: string | undefined): void {
  if (file !== undefined && !existsSync(file)) throw new UserError(`${command}: image not found: ${file}`);
}

/** A one-image dataset (its test split) holding `file` as the run's model sees it. */
export async function prepareImageFlag(file: string, opened: OpenedRun, out: (s: string) => void, warn: (s: string) => void): Promise<Dataset> {
  const data = await loadData(opened.spec, opened.registry, opened.info.specDir || opened.runDir).catch((e: Error) => {
    warn(`cannot load the run's data (${e.message.split('\n')[0]}); preparing the image without its import rules`);
    return undefined;
  });
  const prepared = prepareImage(file, opened.spec.input, data);
  for (const step of prepared.steps) out(`image: ${step}\n`);
  return prepared.dataset;
}
