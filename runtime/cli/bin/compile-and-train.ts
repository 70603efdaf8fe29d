#!/usr/bin/env node
/** The `compile-and-train` executable: an alias of `punet compile-and-train` (plus --version). */
import { runExecutable } from '../main.js';

void runExecutable(process.argv.slice(2), 'compile-and-train');
