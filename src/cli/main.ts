#!/usr/bin/env node
/**
 * The `sasa` command line. The program (program.ts) is imported inside the try, so that a failure while
 * loading it (e.g. a TensorFlow.js outside the peer range, tfjs_version.ts) reads `sasa: error: …` too.
 */
try {
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv);
} catch (err) {
  process.stderr.write(`sasa: error: ${(err as Error).message}\n`);
  if (process.env.SASA_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
}
