// Builds the oneDNN addon with node-gyp. Run by `npm install` / `npm ci` (the package's install
// script): when a C++ compiler, make or oneDNN is missing it explains how to get the fast backend,
// records why in build/NOT_BUILT (the library's one-line warning at run time quotes it) and exits 0,
// so the package still installs and runs on TensorFlow.js's JS backend. `--required` makes it fail.
// `--asan` builds a debug addon with AddressSanitizer into build-asan/ instead (see buildAsan).
// CXX names the compiler (default g++, as make's); SASA_DNNL_INCLUDE the directory holding
// oneapi/dnnl/dnnl.hpp (searched instead of /usr/include and /usr/local/include, and given to the
// compiler as CPATH).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required') || process.argv.includes('--asan');
const fix = 'apt-get install -y libdnnl-dev g++ make python3 && npm rebuild sasa';

/** Where a skipped build leaves its reason (read by src/backend/addon.ts, next to build/Release). */
const notBuiltNote = join(root, 'build', 'NOT_BUILT');

function giveUp(reason) {
  if (!required) {
    mkdirSync(dirname(notBuiltNote), { recursive: true });
    writeFileSync(notBuiltNote, `${reason}\n`);
  }
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

/** Whether `command` (a name or a path) is an executable file, looked up on PATH like a shell. */
function onPath(command) {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Gives up, saying what is missing, unless a compiler, make and oneDNN's headers are all there. */
function checkToolchain() {
  const compiler = (process.env.CXX || 'g++').trim().split(/\s+/)[0];
  if (!onPath(compiler)) giveUp(`no C++ compiler: ${compiler} is not on PATH (set CXX to use another)`);
  if (!onPath('make')) giveUp('make is not on PATH');
  const includeDirs = process.env.SASA_DNNL_INCLUDE
    ? [process.env.SASA_DNNL_INCLUDE]
    : ['/usr/include', '/usr/local/include'];
  if (!includeDirs.some((dir) => existsSync(join(dir, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
    giveUp(`oneDNN headers (oneapi/dnnl/dnnl.hpp, Debian package libdnnl-dev) are not in ${includeDirs.join(' or ')}`);
  }
}

/** Build against the running Node's own headers when they are installed (no download needed). */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The addon's sources, read from binding.gyp so both builds compile the same files. */
function gypSources() {
  const gyp = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8'));
  return gyp.targets[0].sources;
}

/** The directory holding node_api.h: the running Node's headers, else node-gyp's downloaded ones. */
function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found) giveUp(`Node's headers (node_api.h) were not found in ${candidates.join(', ')}`);
  return found;
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) giveUp(`${cmd} ${args.at(-1)} failed`);
}

/**
 * A debug build with AddressSanitizer, compiled by g++ directly (node-gyp always builds into
 * build/) into build-asan/Release/sasa_native.node; load it with SASA_NATIVE_ADDON and
 * LD_PRELOAD=$(gcc -print-file-name=libasan.so) (scripts/fuzz-asan.sh does).
 */
function buildAsan() {
  const out = join(root, 'build-asan', 'Release');
  mkdirSync(join(out, 'obj'), { recursive: true });
  const addonApi = join(root, 'node_modules', 'node-addon-api');
  const flags = [
    '-std=c++17',
    '-O1',
    '-g',
    '-fsanitize=address',
    '-fno-omit-frame-pointer',
    '-march=native',
    '-fopenmp',
    '-fexceptions',
    '-fPIC',
    '-Wall',
    '-Wextra',
    '-Wno-unused-parameter',
    '-DNAPI_VERSION=8',
    '-DNAPI_CPP_EXCEPTIONS',
    '-DBUILDING_NODE_EXTENSION',
    `-I${nodeIncludeDir()}`,
    `-I${addonApi}`,
  ];
  const objects = gypSources().map((source) => {
    const object = join(out, 'obj', source.replaceAll('/', '_').replace(/\.cc$/, '.o'));
    run('g++', [...flags, '-c', '-o', object, source]);
    return object;
  });
  const addon = join(out, 'sasa_native.node');
  run('g++', ['-shared', '-fsanitize=address', '-fopenmp', '-o', addon, ...objects, '-ldnnl']);
  console.log(`sasa: AddressSanitizer addon built (${addon})`);
}

checkToolchain();
if (process.argv.includes('--asan')) {
  buildAsan();
  process.exit(0);
}

const [cmd, args] = nodeGypCommand();
const dnnlInclude = process.env.SASA_DNNL_INCLUDE;
const cpath = [dnnlInclude, process.env.CPATH].filter(Boolean).join(delimiter);
const result = spawnSync(cmd, [...args, 'rebuild', ...nodedirArgs()], {
  cwd: root,
  env: cpath ? { ...process.env, CPATH: cpath } : process.env,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (result.error || result.status !== 0) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  giveUp(result.error ? `node-gyp could not start (${result.error.message})` : 'node-gyp failed (output above)');
}
console.log('sasa: native oneDNN backend built (build/Release/sasa_native.node)');
