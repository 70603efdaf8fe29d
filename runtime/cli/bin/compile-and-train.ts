#!/usr/bin/env node
/** The `compile-and-train` executable: an alias of `punet compile-and-train`. */
import { main } from '../main.js';

main(['compile-and-train', ...process.argv.slice(2)]).then((code) => {
  process.exitCode = code;
});
