// Marks the package's bins (package.json "bin") executable after a build: tsc writes new files
// without the x bit, and `npx compile-and-train` in a checkout runs the file itself.
import { chmodSync, existsSync, readFileSync } from 'node:fs';

const { bin = {} } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(bin)) {
  const path = new URL(`../${file}`, import.meta.url);
  if (existsSync(path)) chmodSync(path, 0o755);
}
