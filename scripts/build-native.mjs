// Builds the oneDNN addon with node-gyp. Run by `npm ci` (the package's install script): when
// oneDNN or a compiler is missing it explains how to get the fast backend and exits 0, so the
// package still installs and runs on TensorFlow.js's JS backend. `--required` makes it fail.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required');
const fix = 'apt-get install -y libdnnl-dev g++ make python3 && npm rebuild sasa';

function giveUp(reason) {
  const message =
    `sasa: the native oneDNN backend was not built: ${reason}.\n` +
    `sasa: it will run on TensorFlow.js's pure-JS backend, which is about 100x slower.\n` +
    `sasa: to fix: ${fix}`;
  console.warn(message);
  process.exit(required ? 1 : 0);
}

function nodeGypCommand() {
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  if (existsSync(bundled)) return [process.execPath, [bundled]];
  if (process.env.npm_config_node_gyp) return [process.execPath, [process.env.npm_config_node_gyp]];
  return ['node-gyp', []];
}

const headers = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];
if (!process.env.SASA_DNNL_INCLUDE && !headers.some((h) => existsSync(h))) {
  giveUp('oneDNN headers (Debian package libdnnl-dev) were not found');
}
/** Build against the running Node's own headers when they are installed (no download needed). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [cmd, args] = nodeGypCommand();
const result = spawnSync(cmd, [...args, 'rebuild', ...nodedirArgs()], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (result.error || result.status !== 0) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  giveUp(result.error ? `node-gyp could not start (${result.error.message})` : 'node-gyp failed (output above)');
}
console.log('sasa: native oneDNN backend built (build/Release/sasa_native.node)');
