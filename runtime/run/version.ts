/** punet's version from package.json, found from sources (tsx/vitest) or from dist/; the offline bundle defines it. */
import { existsSync, readFileSync } from 'node:fs';

declare const __PUNET_VERSION__: string | undefined;

export const PUNET_VERSION: string = (() => {
  if (typeof __PUNET_VERSION__ === 'string') return __PUNET_VERSION__;
  for (const up of ['../../package.json', '../../../package.json']) {
    const url = new URL(up, import.meta.url);
    try {
      if (!existsSync(url)) continue;
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'punet' && pkg.version) return pkg.version;
    } catch {
      /* try the next */
    }
  }
  return 'unknown';
})();
