/**
 * Headless Chromium for the report rendering check (Debian package `chromium`, installed by
 * .ci/install-chromium.sh). In CI (CI=true) a missing browser is a failure, locally a skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Screenshots a local HTML file; returns the PNG path. Throws with Chromium's output on failure. */
export function screenshot(chromium: string, htmlFile: string, outPng: string, size = '1200,2000'): string {
  const profile = mkdtempSync(join(tmpdir(), 'punet-chromium-'));
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--screenshot=${outPng}`,
      `--window-size=${size}`,
      pathToFileURL(htmlFile).href,
    ];
    const r = spawnSync(chromium, args, { encoding: 'utf8', timeout: 90_000 });
    if (r.error || !existsSync(outPng)) {
      throw new Error(`chromium did not write ${outPng} (exit ${r.status}, ${r.error?.message ?? ''}):\n${r.stderr}`);
    }
    return outPng;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
