#!/usr/bin/env bash
# The fuzz subset (test/fuzz/fuzz.test.ts) on the AddressSanitizer build of the addon
# (node scripts/build-native.mjs --asan → build-asan/Release/sasa_native.node).
#   scripts/fuzz-asan.sh [cases per op, default 40]
# A Node addon needs libasan preloaded (node itself is not instrumented). detect_leaks=0: V8
# keeps its heap to the end by design. OMP_NUM_THREADS defaults to 1, which keeps the run
# deterministic; libgomp is not instrumented, and with 2 threads ASan reported nothing either.
set -euo pipefail
cd "$(dirname "$0")/.."

addon=build-asan/Release/sasa_native.node
[[ -f $addon ]] || node scripts/build-native.mjs --asan
libasan=$(gcc -print-file-name=libasan.so)
[[ -f $libasan ]] || { echo "fuzz-asan: libasan.so not found (gcc -print-file-name gave $libasan)" >&2; exit 1; }

export SASA_NATIVE_ADDON=$PWD/$addon
export SASA_REQUIRE_NATIVE=1
export SASA_FUZZ_CASES=${1:-40}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
LD_PRELOAD=$libasan node --import tsx --test --test-reporter=spec test/fuzz/fuzz.test.ts
