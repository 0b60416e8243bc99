#!/usr/bin/env node
/** The `sasa` command line. */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
