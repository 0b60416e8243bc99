#!/usr/bin/env node
// sasa vs PyTorch, measured in one sitting: runs each case alternately (ours, then torch),
// --rounds times, one process at a time, keeps the best median of each side, and prints a
// markdown table (or --json). Exits non-zero if either side fails.
//
//   node bench/compare.mjs [--cases conv,conv-bwd,matmul] [--rounds 2] [--runs 10] [--warmup 3]
//                          [--threads 2] [--python /usr/bin/python3] [--wait-idle 300]
//                          [--torch-lib-dir DIR] [--torch-wait-policy passive|libgomp] [--json]
//   node bench/compare.mjs --cases attn [--torch-malloc retain|glibc] ...   (the attention layer)
//   node bench/compare.mjs --cases model --rounds 2 --runs 3   (ResNet-26 and SASA-ResNet-26 train steps)
//   node bench/compare.mjs --cases model-inference --batch 1   (batch-1 inference latency: resnet26,
//                          sasa_resnet26_convstem, sasa_resnet26)
//   node bench/compare.mjs --cases resnet26-convs [--conv-pass model|forward|weights|full]
//                          [--batch 8] [--size 224] [--warmup-ms 1000]
//       (every distinct convolution of a registered model, timed alone on both sides, in a table
//        sorted by count x time difference: where a model's convolution gap comes from; below)
//
// Ours:  node dist/cli/main.js bench <case args> --json   (env SASA_NUM_THREADS; the built CLI, as
//        users run it: `npm run build` first. Running through tsx adds ~85 MB of resident memory.)
// Torch: /usr/bin/python3 bench/torch_peer.py <case args> --json   (env OMP_NUM_THREADS)
//
// Attention cases (attn-56, attn-56-bwd, attn-28, ..., attn-7-bwd; --cases attn = all eight,
// --cases all = everything): the SASA layer at ResNet stage shapes [8,56,56,64], [8,28,28,128],
// [8,14,14,256], [8,7,7,512], k = 7, 8 heads, forward or forward + backward. Three processes per
// round: ours (`bench attention --shape S --k 7 --heads 8 [--backward]`), PyTorch's unfold-based
// layer (`torch_peer.py attention ...`, the public ports' way with the math right), and our 3x3
// convolution of the same width (`bench conv --shape S --filters C --kernel 3 [--backward]`).
// Columns: speed-up = PyTorch ms / sasa ms, memory ratio = sasa peak RSS / PyTorch peak RSS,
// attention/conv = sasa attention ms / sasa conv ms. (PyTorch's malloc: see --torch-malloc below.)
// Debian's torch does matmul with whatever libblas.so.3 resolves to (reference BLAS unless
// OpenBLAS is installed); the report names the library loaded. To try another without
// installing it, pass --torch-lib-dir DIR (a folder holding its libblas.so.3; e.g. unpack
// libopenblas0-pthread with dpkg-deb -x and name its usr/lib/x86_64-linux-gnu/openblas-pthread).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// --help: the comment at the top of this file.
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  const usage = lines.slice(
    0,
    lines.findIndex((l) => !l.startsWith('//')),
  );
  console.log(usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

const { values: opt } = parseArgs({
  options: {
    cases: { type: 'string', default: 'default' },
    rounds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
    'wait-idle': { type: 'string', default: '300' },
    'torch-lib-dir': { type: 'string' },
    'torch-malloc': { type: 'string', default: 'retain' },
    // PyTorch's OMP_WAIT_POLICY: passive (default) as sasa's addon sets for its own threads, or
    // 'libgomp' to leave libgomp's default (spin, then sleep).
    'torch-wait-policy': { type: 'string', default: 'passive' },
    // Untimed warm-up time per process (both sides' --warmup-ms; unset: their default, 1000 ms).
    'warmup-ms': { type: 'string' },
    // Batch and image size of the model cases and of the <model>-convs cases.
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '224' },
    // <model>-convs cases: which passes each convolution runs (see CONV_PASSES).
    'conv-pass': { type: 'string', default: 'model' },
    // The built sasa CLI (relative to the repository root); another path for testing this runner
    // against a stub.
    'sasa-cli': { type: 'string', default: 'dist/cli/main.js' },
  },
});

// Each case: the sides it runs, each with its runner (sasa CLI or torch peer) and `bench`
// arguments; `memoryOnly` sides run once (first round), one timed run, and only give a peak RSS.
// kind 'peer': sasa vs PyTorch on the same arguments; kind 'attention': ours, PyTorch's unfold
// layer, our 3x3 conv of that width (and PyTorch's peak RSS with glibc's default malloc).
const peerCase = (args) => ({
  kind: 'peer',
  sides: { sasa: { runner: 'sasa', args }, pytorch: { runner: 'pytorch', args } },
});
const CASES = {
  conv: peerCase(['conv', '--shape', '8,56,56,64', '--filters', '64', '--kernel', '3', '--stride', '1']),
  'conv-bwd': peerCase([
    'conv',
    '--shape',
    '8,56,56,64',
    '--filters',
    '64',
    '--kernel',
    '3',
    '--stride',
    '1',
    '--backward',
  ]),
  matmul: peerCase(['matmul', '--size', '1024']),
};
const ATTENTION_STAGES = { 56: [8, 56, 56, 64], 28: [8, 28, 28, 128], 14: [8, 14, 14, 256], 7: [8, 7, 7, 512] };
for (const [size, shape] of Object.entries(ATTENTION_STAGES).sort((a, b) => b[0] - a[0])) {
  for (const backward of [false, true]) {
    const bwd = backward ? ['--backward'] : [];
    const attn = ['attention', '--shape', shape.join(','), '--k', '7', '--heads', '8', ...bwd];
    const conv = ['conv', '--shape', shape.join(','), '--filters', String(shape[3]), '--kernel', '3', ...bwd];
    CASES[`attn-${size}${backward ? '-bwd' : ''}`] = {
      kind: 'attention',
      sides: {
        sasa: { runner: 'sasa', args: attn },
        pytorch: { runner: 'pytorch', args: attn, malloc: true },
        'sasa-conv': { runner: 'sasa', args: conv },
        'pytorch-glibc-mem': { runner: 'pytorch', args: [...attn, '--malloc', 'glibc'], memoryOnly: true },
      },
    };
  }
}
// Model cases (model-resnet26[-train], model-sasa_resnet26_convstem[-train], model-sasa_resnet26[-train]):
// one inference or training step (batch 8, 224x224 unless --batch / --size, 1000 classes) of
// `sasa bench model --model M` against `torch_peer.py model --model M` (resnet26: torchvision-style;
// sasa_resnet26: the unfold attention layer in every block and a blocked attention stem;
// sasa_resnet26_convstem: those blocks behind resnet26's conv stem). PyTorch runs with --torch-malloc
// like the attention cases; for the sasa models its peak RSS is also taken with glibc's defaults.
for (const model of ['resnet26', 'sasa_resnet26_convstem', 'sasa_resnet26']) {
  for (const train of [false, true]) {
    const args = ['model', '--model', model, '--batch', opt.batch, '--size', opt.size, ...(train ? ['--train'] : [])];
    const sides = {
      sasa: { runner: 'sasa', args },
      pytorch: { runner: 'pytorch', args, malloc: true },
    };
    if (model.startsWith('sasa'))
      sides['pytorch-glibc-mem'] = { runner: 'pytorch', args: [...args, '--malloc', 'glibc'], memoryOnly: true };
    CASES[`model-${model}${train ? '-train' : ''}`] = { kind: 'model', sides };
  }
}
const GROUPS = {
  default: ['conv', 'conv-bwd', 'matmul'],
  attn: Object.keys(CASES).filter((c) => c.startsWith('attn-')),
  model: ['model-resnet26-train', 'model-sasa_resnet26-train'],
  'model-inference': ['model-resnet26', 'model-sasa_resnet26_convstem', 'model-sasa_resnet26'],
  all: Object.keys(CASES),
};
const repoRoot = new URL('..', import.meta.url).pathname;

// <model>-convs groups (e.g. --cases resnet26-convs): every distinct convolution of a registered
// model at --batch / --size, one case each, listed from the built network by bench/model_convs.ts
// (input shape, filters, kernel, stride, how many times a step runs it). Each case times `bench
// conv` on both sides; --conv-pass picks the passes:
//   model    (default) what a training step of each model runs: forward + dX + dW, but no dX for
//            the layer on the model's input (its input needs none), on both sides;
//   forward  forward only, both sides;
//   weights  forward + dW, both sides (with `model`/`full`: dX's cost by difference);
//   full     forward + dX + dW, both sides, first layer included.
// Padding: each side pads as its model does — sasa TF-style 'same' (builder.ts), PyTorch k//2
// (torch_peer.py's ResNet26) — same output sizes; at stride 2 the windows sit one pixel apart.
const CONV_PASSES = {
  model: (c) => {
    const passes = ['--backward', ...(c.modelInput ? ['--no-input-grad'] : [])];
    return { sasa: passes, pytorch: passes };
  },
  forward: () => ({ sasa: [], pytorch: [] }),
  weights: () => ({ sasa: ['--backward', '--no-input-grad'], pytorch: ['--backward', '--no-input-grad'] }),
  full: () => ({ sasa: ['--backward'], pytorch: ['--backward'] }),
};
// Forward FLOPs times the passes run (dX and dW cost one forward each).
const passFlops = (c, args) =>
  c.flops * (1 + (args.includes('--backward') ? 1 + (args.includes('--no-input-grad') ? 0 : 1) : 0));
// A single case of such a group can be named too (e.g. resnet26-conv-56x56x64-k1s1-f256).
const convModels = new Set(
  opt.cases
    .split(',')
    .map((s) => s.trim())
    .map((c) => c.match(/^(.+)-convs$/)?.[1] ?? c.match(/^(.+?)-conv-/)?.[1])
    .filter((m) => m && !GROUPS[`${m}-convs`]),
);
for (const model of convModels) {
  const group = `${model}-convs`;
  if (!CONV_PASSES[opt['conv-pass']]) die(`--conv-pass must be one of ${Object.keys(CONV_PASSES).join(', ')}`);
  const lister = ['--import', 'tsx', 'bench/model_convs.ts', '--model', model, '--batch', opt.batch];
  const r = spawnSync(process.execPath, [...lister, '--size', opt.size, '--json'], {
    cwd: repoRoot,
    env: { ...process.env, SASA_NUM_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) die(`listing the convolutions of ${model} failed: ${`${r.stderr}${r.stdout}`.trim()}`);
  const list = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (!list.convs.length) die(`${model} has no Conv2D layers`);
  GROUPS[group] = [];
  for (const c of list.convs) {
    // `bench conv` pads 'same' only; the PyTorch peer's k//2 matches its output size for odd k only.
    if (c.padding !== 'same' || c.kernel % 2 === 0)
      die(
        `${model} ${c.layers[0]}: ${c.kernel}x${c.kernel} '${c.padding}' cannot be timed as \`bench conv\` on both sides`,
      );
    const [, h, w, ch] = c.shape;
    const name = `${model}-conv-${h}x${w}x${ch}-k${c.kernel}s${c.stride}-f${c.filters}${c.modelInput ? '-input' : ''}`;
    const passes = CONV_PASSES[opt['conv-pass']](c);
    const base = ['conv', '--shape', c.shape.join(','), '--filters', String(c.filters)];
    // --inputs 5: a new x every run, as in a network (see `sasa bench conv --inputs`).
    const args = [...base, '--kernel', String(c.kernel), '--stride', String(c.stride), '--inputs', '5'];
    CASES[name] = {
      kind: 'model-conv',
      model,
      conv: c,
      flops: { sasa: passFlops(c, passes.sasa), pytorch: passFlops(c, passes.pytorch) },
      sides: {
        sasa: { runner: 'sasa', args: [...args, ...passes.sasa] },
        pytorch: { runner: 'pytorch', args: [...args, ...passes.pytorch] },
      },
    };
    GROUPS[group].push(name);
  }
}
// The unfold layer's big temporaries (up to 400 MB each at 56x56) are above glibc's mmap
// threshold, so with glibc's default malloc every run munmaps and page-faults them in again; page
// faults are slow on these VMs (~9 us each; ~47 000 a run at [8,7,7,512]), and that made the
// PyTorch forward at [8,7,7,512] ~10x slower (474 vs 49 ms, idle machine). So for the attention
// cases PyTorch is timed with `--malloc retain` (glibc keeps freed memory, like the caching
// allocators PyTorch's tuning guide recommends; --torch-malloc glibc to time without). Keeping
// freed blocks raises its peak RSS (fragmentation: 516 vs 429 MB there), so its peak RSS is also
// measured with glibc's defaults (one warm-up + one run, first round only) and the table shows
// the smaller of the two.
// This machine sets OPENBLAS_CORETYPE=Haswell / OPENBLAS_L2_SIZE=512. With Debian's default
// reference BLAS they change nothing (1024^3: 331-352 ms either way); with OpenBLAS they cost 1.7x
// (11 vs 6.8 ms; same max error vs a float64 reference, 9e-5). So torch runs without them.
const UNSET_OPENBLAS_FOR_TORCH = true;

function die(msg) {
  console.error(`compare: ${msg}`);
  process.exit(1);
}

const caseNames = [
  ...new Set(
    opt.cases
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .flatMap((c) => GROUPS[c] ?? [c]),
  ),
];
for (const c of caseNames)
  if (!CASES[c])
    die(
      `unknown case '${c}' (known: ${Object.keys(CASES).join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}, <model>-convs)`,
    );
const rounds = Number(opt.rounds);
if (!(rounds >= 1)) die('--rounds must be >= 1');
if (!['retain', 'glibc'].includes(opt['torch-malloc'])) die('--torch-malloc must be retain or glibc');

const COMMON = [
  '--runs',
  opt.runs,
  '--warmup',
  opt.warmup,
  ...(opt['warmup-ms'] === undefined ? [] : ['--warmup-ms', opt['warmup-ms']]),
  '--json',
];
const MEMORY_ONLY = ['--runs', '1', '--warmup', '1', '--warmup-ms', '0', '--json'];
const torchEnv = { ...process.env, OMP_NUM_THREADS: opt.threads, OPENBLAS_NUM_THREADS: opt.threads };
if (opt['torch-lib-dir']) torchEnv.LD_LIBRARY_PATH = opt['torch-lib-dir'];
// On shared cores libgomp's spinning threads hold the core a straggler needs (BENCHMARKS.md,
// "Batch-1 inference"); sasa's addon makes its threads passive, so PyTorch's are made so too.
if (!['passive', 'libgomp'].includes(opt['torch-wait-policy'])) die('--torch-wait-policy must be passive or libgomp');
if (opt['torch-wait-policy'] === 'passive') torchEnv.OMP_WAIT_POLICY = 'passive';
else delete torchEnv.OMP_WAIT_POLICY;
if (UNSET_OPENBLAS_FOR_TORCH) {
  delete torchEnv.OPENBLAS_CORETYPE;
  delete torchEnv.OPENBLAS_L2_SIZE;
}
const RUNNERS = {
  sasa: (args, common) => ({
    cmd: process.execPath,
    args: [opt['sasa-cli'], 'bench', ...args, ...common],
    env: { ...process.env, SASA_NUM_THREADS: opt.threads },
    envShown: `SASA_NUM_THREADS=${opt.threads}`,
  }),
  pytorch: (args, common) => ({
    cmd: opt.python,
    args: ['bench/torch_peer.py', ...args, '--threads', opt.threads, ...common],
    env: torchEnv,
    envShown: [
      UNSET_OPENBLAS_FOR_TORCH ? 'env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE' : '',
      `OMP_NUM_THREADS=${opt.threads} OPENBLAS_NUM_THREADS=${opt.threads}`,
      torchEnv.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${torchEnv.OMP_WAIT_POLICY}` : '',
      opt['torch-lib-dir'] ? `LD_LIBRARY_PATH=${opt['torch-lib-dir']}` : '',
    ]
      .filter(Boolean)
      .join(' '),
  }),
};
if (!existsSync(`${repoRoot}${opt['sasa-cli']}`)) {
  die(`${opt['sasa-cli']} is missing: run \`npm run build\` first`);
}

// Other work on a 2-core machine wrecks these numbers (torch's OpenMP threads slow down 5-20x
// when a core is taken). So before each run wait (up to --wait-idle s) for an idle machine, and
// measure the CPU that other processes used during the run ("foreign", % of all cores).
const cpuTicks = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: f.reduce((x, y) => x + y) - f[3] - f[4], total: f.reduce((x, y) => x + y) };
};
const selfTicks = () => {
  const st = readFileSync('/proc/self/stat', 'utf8');
  const f = st
    .slice(st.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number); // f[11..14]: utime stime cutime cstime
  return f[11] + f[12] + f[13] + f[14];
};
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
function waitIdle() {
  const deadline = Date.now() + Number(opt['wait-idle']) * 1e3;
  for (;;) {
    const a = cpuTicks();
    sleep(1000);
    const b = cpuTicks();
    const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy < 0.05) return true;
    if (Date.now() > deadline) {
      console.error(`compare: warning: machine still ${(100 * busy).toFixed(0)}% busy; measuring anyway`);
      return false;
    }
  }
}

// Runs one side synchronously (so nothing overlaps) and returns its last JSON result line.
function runOne(side, caseName) {
  const spec = CASES[caseName].sides[side];
  const args = spec.malloc ? [...spec.args, '--malloc', opt['torch-malloc']] : spec.args;
  const { cmd, args: argv, env, envShown } = RUNNERS[spec.runner](args, spec.memoryOnly ? MEMORY_ONLY : COMMON);
  const shown = `${envShown} ${cmd} ${argv.join(' ')}`;
  waitIdle();
  const [c0, s0] = [cpuTicks(), selfTicks()];
  const r = spawnSync(cmd, argv, { cwd: repoRoot, env, encoding: 'utf8', timeout: 15 * 60e3, maxBuffer: 64 << 20 });
  const [c1, s1] = [cpuTicks(), selfTicks()];
  const foreign = (100 * Math.max(0, c1.busy - c0.busy - (s1 - s0))) / Math.max(1, c1.total - c0.total);
  const tail = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
  if (r.error) die(`${side} failed to run (${r.error.message}): ${shown}\n${tail}`);
  if (r.status !== 0) die(`${side} exited with ${r.status ?? r.signal} on case ${caseName}: ${shown}\n${tail}`);
  const results = r.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter((o) => o && typeof o.median_ms === 'number');
  if (!results.length) die(`${side} printed no JSON line with median_ms on case ${caseName}: ${shown}\n${tail}`);
  return { shown, res: results.at(-1), foreign };
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = loadavg();
const rows = [];
for (const c of caseNames) {
  const best = {};
  const sides = Object.entries(CASES[c].sides)
    .filter(([, s]) => !(s.memoryOnly && opt['torch-malloc'] === 'glibc'))
    .map(([name]) => name);
  for (let i = 0; i < rounds; i++) {
    for (const side of sides) {
      if (i > 0 && CASES[c].sides[side].memoryOnly) continue;
      const { shown, res, foreign } = runOne(side, c);
      if (!opt.json)
        console.error(
          `[round ${i + 1}/${rounds}] ${c} ${side}: ${res.median_ms.toFixed(2)} ms, peak RSS ${res.peak_rss_mb?.toFixed(0)} MB (foreign CPU ${foreign.toFixed(0)}%)`,
        );
      best[side] ??= { command: shown, medians: [], foreign_cpu_pct: [], peak_rss_mb: 0 };
      const b = best[side];
      if (!(res.median_ms >= Math.min(...b.medians))) Object.assign(b, { result: res, best_foreign_cpu_pct: foreign });
      b.medians.push(res.median_ms);
      b.foreign_cpu_pct.push(foreign);
      b.peak_rss_mb = Math.max(b.peak_rss_mb, res.peak_rss_mb ?? Number.NaN);
    }
  }
  for (const b of Object.values(best)) b.best_ms = Math.min(...b.medians);
  const row = { case: c, kind: CASES[c].kind, ratio: best.sasa.best_ms / best.pytorch.best_ms };
  if (row.kind === 'model' || row.kind === 'attention') {
    // PyTorch's peak RSS: the smaller of the timed runs' and glibc-malloc's (see --torch-malloc).
    const torchPeak = Math.min(best.pytorch.peak_rss_mb, best['pytorch-glibc-mem']?.peak_rss_mb ?? Infinity);
    Object.assign(row, {
      speedup: best.pytorch.best_ms / best.sasa.best_ms,
      pytorch_peak_rss_mb: torchPeak,
      memory_ratio: best.sasa.peak_rss_mb / torchPeak,
    });
  }
  if (row.kind === 'model') {
    Object.assign(row, {
      sasa_images_per_s: (best.sasa.result.batch * 1e3) / best.sasa.best_ms,
      pytorch_images_per_s: (best.pytorch.result.batch * 1e3) / best.pytorch.best_ms,
    });
  }
  if (row.kind === 'attention') {
    Object.assign(row, { attention_over_conv: best.sasa.best_ms / best['sasa-conv'].best_ms });
  }
  if (row.kind === 'model-conv') {
    const { model, conv, flops } = CASES[c];
    Object.assign(row, {
      model,
      conv,
      sasa_weighted_ms: conv.count * best.sasa.best_ms,
      pytorch_weighted_ms: conv.count * best.pytorch.best_ms,
      weighted_difference_ms: conv.count * (best.sasa.best_ms - best.pytorch.best_ms),
      sasa_gflops: flops.sasa / best.sasa.best_ms / 1e6,
      pytorch_gflops: flops.pytorch / best.pytorch.best_ms / 1e6,
    });
  }
  Object.assign(row, { sasa: best.sasa, pytorch: best.pytorch });
  if (best['sasa-conv']) row.sasa_conv = best['sasa-conv'];
  if (best['pytorch-glibc-mem']) row.pytorch_glibc_mem = best['pytorch-glibc-mem'];
  rows.push(row);
}

const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? 'unknown';
const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism());
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const torchRes = rows[0]?.pytorch.result ?? {};
const sasaRes = rows[0]?.sasa.result ?? {};
const meta = {
  date: new Date().toISOString(),
  nproc,
  cpu,
  node: process.version,
  sasa: pkg.version,
  sasa_backend: sasaRes.backend,
  tfjs: pkg.dependencies?.['@tensorflow/tfjs'],
  torch: torchRes.torch,
  torch_mkldnn: torchRes.mkldnn,
  torch_blas: torchRes.blas,
  torch_blas_libs: torchRes.blas_libs,
  threads: Number(opt.threads),
  loadavg_before: loadBefore,
  loadavg_after: loadavg(),
  rounds,
  runs: Number(opt.runs),
  warmup: Number(opt.warmup),
};

if (opt.json) {
  console.log(JSON.stringify({ meta, rows }, null, 2));
} else {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const peerRows = rows.filter((r) => r.kind === 'peer');
  const attnRows = rows.filter((r) => r.kind === 'attention');
  const modelRows = rows.filter((r) => r.kind === 'model');
  const convRows = rows.filter((r) => r.kind === 'model-conv');
  const out = [
    `sasa vs PyTorch — ${meta.date}, ${nproc} cores (${cpu}), ${meta.threads} threads each, best median of ${rounds} alternating rounds x ${meta.runs} runs (${meta.warmup} warmup), load average ${meta.loadavg_before} before / ${meta.loadavg_after} after`,
    `versions: sasa ${meta.sasa} (backend ${meta.sasa_backend}), @tensorflow/tfjs ${meta.tfjs}, node ${meta.node}, torch ${meta.torch} (mkldnn ${meta.torch_mkldnn}, BLAS_INFO ${meta.torch_blas}, loaded: ${(meta.torch_blas_libs ?? []).map((p) => p.split('/').slice(-2).join('/')).join(' ')})`,
  ];
  if (peerRows.length)
    out.push(
      '',
      '| case | sasa ms | PyTorch ms | ratio (sasa/PyTorch) | sasa peak RSS MB | PyTorch peak RSS MB |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...peerRows.map(
        (r) =>
          `| ${r.case} | ${f(r.sasa.best_ms)} | ${f(r.pytorch.best_ms)} | ${f(r.ratio)} | ${f(r.sasa.peak_rss_mb, 0)} | ${f(r.pytorch.peak_rss_mb, 0)} |`,
      ),
    );
  if (attnRows.length)
    out.push(
      '',
      'attention layer, k = 7, 8 heads (PyTorch: unfold-based layer; conv: our 3x3 conv of the same width, same pass):',
      '',
      '| case | sasa attention ms | PyTorch unfold ms | speed-up (PyTorch/sasa) | sasa peak RSS MB | PyTorch peak RSS MB | memory ratio (sasa/PyTorch) | sasa conv3x3 ms | attention/conv |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...attnRows.map(
        (r) =>
          `| ${r.case} | ${f(r.sasa.best_ms)} | ${f(r.pytorch.best_ms)} | ${f(r.speedup)} | ${f(r.sasa.peak_rss_mb, 0)} | ${f(r.pytorch_peak_rss_mb, 0)} | ${f(r.memory_ratio)} | ${f(r.sasa_conv.best_ms)} | ${f(r.attention_over_conv, 1)} |`,
      ),
      '',
      opt['torch-malloc'] === 'retain'
        ? `PyTorch timed with --malloc retain (glibc keeps freed memory instead of page-faulting it in again every run); its peak RSS is the smaller of that run's and one with glibc's defaults (retain/glibc MB: ${attnRows
            .map((r) => `${r.case} ${f(r.pytorch.peak_rss_mb, 0)}/${f(r.pytorch_glibc_mem?.peak_rss_mb, 0)}`)
            .join(', ')}).`
        : "PyTorch timed with glibc's default malloc (--torch-malloc glibc).",
    );
  if (modelRows.length) {
    out.push(
      '',
      `model steps, batch ${opt.batch}, ${opt.size}x${opt.size}, 1000 classes (train: forward, softmax cross-entropy, backward, SGD momentum 0.9; PyTorch sasa_resnet26: unfold attention layers):`,
      '',
      '| case | sasa ms | PyTorch ms | ratio (sasa/PyTorch) | speed-up (PyTorch/sasa) | sasa images/s | PyTorch images/s | sasa peak RSS MB | PyTorch peak RSS MB | memory ratio (sasa/PyTorch) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...modelRows.map(
        (r) =>
          `| ${r.case} | ${f(r.sasa.best_ms)} | ${f(r.pytorch.best_ms)} | ${f(r.ratio)} | ${f(r.speedup)} | ${f(r.sasa_images_per_s, 1)} | ${f(r.pytorch_images_per_s, 1)} | ${f(r.sasa.peak_rss_mb, 0)} | ${f(r.pytorch_peak_rss_mb, 0)} | ${f(r.memory_ratio)} |`,
      ),
    );
    for (const suffix of ['', '-train']) {
      const conv = modelRows.find((r) => r.case === `model-resnet26${suffix}`);
      for (const model of ['sasa_resnet26_convstem', 'sasa_resnet26']) {
        const attn = modelRows.find((r) => r.case === `model-${model}${suffix}`);
        if (conv && attn)
          out.push(
            '',
            `${model} / resnet26${suffix ? ' (train step)' : ' (inference)'} on sasa: ${f(attn.sasa.best_ms / conv.sasa.best_ms)}x the time; on PyTorch: ${f(attn.pytorch.best_ms / conv.pytorch.best_ms)}x`,
          );
      }
    }
    out.push(
      '',
      opt['torch-malloc'] === 'retain'
        ? `PyTorch timed with --malloc retain; the sasa models' PyTorch peak RSS is the smaller of that run's and one with glibc's defaults (retain/glibc MB: ${modelRows
            .map((r) => `${r.case} ${f(r.pytorch.peak_rss_mb, 0)}/${f(r.pytorch_glibc_mem?.peak_rss_mb, 0)}`)
            .join(', ')}).`
        : "PyTorch timed with glibc's default malloc (--torch-malloc glibc).",
    );
  }
  for (const model of new Set(convRows.map((r) => r.model))) {
    const mine = convRows
      .filter((r) => r.model === model)
      .sort((a, b) => b.weighted_difference_ms - a.weighted_difference_ms);
    const sum = (key) => mine.reduce((t, r) => t + r[key], 0);
    const [sasaTotal, torchTotal] = [sum('sasa_weighted_ms'), sum('pytorch_weighted_ms')];
    const passes = {
      model:
        "forward + backward as each model's training step runs them: dX + dW, but no dX for the layer on the model's input (marked *)",
      forward: 'forward only',
      weights: 'forward + dW (no dX) on both sides',
      full: 'forward + dX + dW on both sides, first layer included',
    }[opt['conv-pass']];
    out.push(
      '',
      `${model}: its distinct convolutions at batch ${opt.batch}, ${opt.size}x${opt.size}, ${passes}; sasa 'same' padding, PyTorch k//2, as each model pads. Sorted by count x (sasa - PyTorch): the top rows are where the gap is.`,
      '',
      '| input [B,H,W,C] | kernel/stride | filters | count | sasa ms | PyTorch ms | ratio (sasa/PyTorch) | count x sasa ms | count x PyTorch ms | count x difference ms | sasa GFLOP/s | PyTorch GFLOP/s | layers |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...mine.map((r) => {
        const c = r.conv;
        const star = c.modelInput && opt['conv-pass'] === 'model' ? ' *' : '';
        const layers =
          c.layers.length > 3 ? `${c.layers.slice(0, 2).join(', ')}, ... (${c.layers.length})` : c.layers.join(', ');
        return `| [${c.shape.join(',')}]${star} | ${c.kernel}x${c.kernel}/${c.stride} | ${c.filters} | ${c.count} | ${f(r.sasa.best_ms)} | ${f(r.pytorch.best_ms)} | ${f(r.ratio)} | ${f(r.sasa_weighted_ms, 1)} | ${f(r.pytorch_weighted_ms, 1)} | ${f(r.weighted_difference_ms, 1)} | ${f(r.sasa_gflops, 0)} | ${f(r.pytorch_gflops, 0)} | ${layers} |`;
      }),
      `| **total** | | | ${mine.reduce((t, r) => t + r.conv.count, 0)} | | | **${f(sasaTotal / torchTotal)}** | **${f(sasaTotal, 1)}** | **${f(torchTotal, 1)}** | **${f(sasaTotal - torchTotal, 1)}** | | | |`,
    );
  }
  out.push(
    '',
    `CPU used by other processes during the kept runs (% of all cores; above ~5% the number is suspect): ${rows
      .map(
        (r) =>
          `${r.case} ${[r.sasa, r.pytorch, r.sasa_conv]
            .filter(Boolean)
            .map((b) => f(b.best_foreign_cpu_pct, 0))
            .join('/')}`,
      )
      .join(', ')} (sasa/PyTorch${attnRows.length ? '[/sasa conv]' : ''})`,
    '',
    'commands:',
    ...rows.flatMap((r) =>
      [r.sasa, r.pytorch, r.sasa_conv, r.pytorch_glibc_mem].filter(Boolean).map((b) => `  ${b.command}`),
    ),
  );
  console.log(out.join('\n'));
}
