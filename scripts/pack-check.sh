#!/usr/bin/env bash
# sasa as a user gets it: `npm pack`, then a fresh project that installs tfjs-core, -layers and
# -backend-cpu 4.22.0 itself and then the tarball. The tarball is first installed on a PATH without a
# C++ compiler: the install must succeed, the README's example (examples/quickstart.mjs) must run on
# tfjs's cpu backend with the two-line warning printed once, and `sasa doctor` must say why. Then
# `npm rebuild sasa` with the toolchain (the fix the warning gives) builds the addon, and the example
# runs on the native backend and with SASA_BACKEND=cpu; then `npx sasa --help`. Last, tfjs 4.21.0 forced in
# (--legacy-peer-deps) must make sasa fail with the one message naming both versions.
# Needs the npm registry. Usage: scripts/pack-check.sh (CI runs it from .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/sasa-pack-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
npm=(npm --no-audit --no-fund --loglevel=warn)
fail() {
  echo "pack-check: $*" >&2
  exit 1
}

# A copy of PATH whose directories holding a C/C++ compiler are replaced by links to everything else in them.
path_without_compiler() {
  local dirs dir shadow entries=() i=0
  IFS=: read -ra dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    i=$((i + 1))
    if [ -e "$dir/g++" ] || [ -e "$dir/c++" ] || [ -e "$dir/gcc" ] || [ -e "$dir/cc" ]; then
      shadow="$work/nocc/$i"
      mkdir -p "$shadow"
      for f in "$dir"/*; do
        case "${f##*/}" in
          g++* | c++* | gcc* | cc | clang* | *-g++* | *-gcc* | *-c++*) ;;
          *) ln -s "$f" "$shadow/" ;;
        esac
      done
      entries+=("$shadow")
    else
      entries+=("$dir")
    fi
  done
  (IFS=:; echo "${entries[*]}")
}

SECONDS=0
"${npm[@]}" pack --pack-destination "$work" >/dev/null
tarball="$work/sasa-$(node -p "require('./package.json').version").tgz"
[ -f "$tarball" ] || fail "npm pack made no $tarball"
echo "pack-check: packed $(tar -tzf "$tarball" | wc -l) files, $(du -k "$tarball" | cut -f1) kB (${SECONDS}s)"

app="$work/app"
mkdir "$app"
cp examples/quickstart.mjs "$app/"
cd "$app"
echo '{ "name": "sasa-pack-check", "private": true, "type": "module" }' >package.json
export ONNXRUNTIME_NODE_INSTALL=skip
"${npm[@]}" install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-layers@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0

nocc=$(path_without_compiler)
! PATH="$nocc" command -v g++ c++ >/dev/null || fail 'the compiler-less PATH still finds a compiler'
PATH="$nocc" env -u CXX "${npm[@]}" install "$tarball" 2>&1 | tee "$work/install.log"
[ -f node_modules/sasa/build/NOT_BUILT ] || fail 'the install script left no build/NOT_BUILT (did it run?)'
[ ! -e node_modules/sasa/build/Release/sasa_native.node ] || fail 'an addon was built without a compiler'
echo "pack-check: installed without a compiler ($(cat node_modules/sasa/build/NOT_BUILT)) (${SECONDS}s)"

node quickstart.mjs 2>"$work/fallback.err" | tee "$work/fallback.out"
grep -q "on 'cpu'" "$work/fallback.out" || fail 'the example did not run on the cpu backend'
[ "$(wc -l <"$work/fallback.err")" -eq 2 ] || fail "expected the two-line warning once, got: $(cat "$work/fallback.err")"
grep -q '^sasa: native backend unavailable (the addon was not built at install: no C++ compiler' "$work/fallback.err" ||
  fail "unexpected warning: $(cat "$work/fallback.err")"
npx sasa doctor 2>/dev/null | tee "$work/doctor.out"
grep -q '^why not native .*no C++ compiler' "$work/doctor.out" || fail 'sasa doctor does not say why not native'
echo "pack-check: fallback checked (${SECONDS}s)"

"${npm[@]}" rebuild sasa
[ -f node_modules/sasa/build/Release/sasa_native.node ] || fail '`npm rebuild sasa` built no addon'
echo "pack-check: addon built by npm rebuild (${SECONDS}s)"
node quickstart.mjs | tee "$work/native.out"
grep -q "on 'native'" "$work/native.out" || fail 'the example did not run on the native backend'
SASA_BACKEND=cpu node quickstart.mjs | tee "$work/cpu.out"
grep -q "on 'cpu'" "$work/cpu.out" || fail 'SASA_BACKEND=cpu did not select the cpu backend'
npx sasa --help | grep -q '^Usage: sasa' || fail '`npx sasa --help` printed no usage'

"${npm[@]}" install --legacy-peer-deps --ignore-scripts \
  @tensorflow/tfjs-core@4.21.0 @tensorflow/tfjs-layers@4.21.0 @tensorflow/tfjs-backend-cpu@4.21.0
if npx sasa doctor 2>"$work/old-tfjs.err"; then fail 'sasa ran with tfjs 4.21.0'; fi
grep -q '^sasa: error: sasa needs TensorFlow.js >=4.22.0 <5 .* but @tensorflow/tfjs-core@4.21.0' "$work/old-tfjs.err" ||
  fail "unexpected error with tfjs 4.21.0: $(cat "$work/old-tfjs.err")"
cat "$work/old-tfjs.err"
echo "pack-check: passed in ${SECONDS}s ($repo)"
