#!/usr/bin/env node
/**
 * The `punet` executable. It always runs: npm's bin symlink, a global install, `npm link` and
 * `node dist/runtime/cli/bin/punet.js` all reach this file, and none of them may depend on how
 * process.argv[1] is spelled. The library module (../main.js) has no side effects.
 */
import { main } from '../main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
