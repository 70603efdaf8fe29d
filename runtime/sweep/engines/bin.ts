import { fileURLToPath } from 'node:url';

/** The punet executable of this installation (engines start tasks with it). */
export function punetBin(): string {
  return fileURLToPath(new URL('../../cli/bin/punet.js', import.meta.url));
}
