#!/usr/bin/env node
/**
 * The `punet` executable. It always runs: npm's bin symlink, a global install, `npm link` and
 * `node dist/runtime/cli/bin/punet.js` all reach this file, and none of them may depend on how
 * process.argv[1] is spelled. The library module (../main.js) has no side effects.
 */
import { runExecutable } from '../main.js';

void runExecutable(process.argv.slice(2));
