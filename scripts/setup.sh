#!/usr/bin/env bash
# Installs what sasa needs on a Debian machine: a C++ toolchain and oneDNN (libdnnl-dev) for the
# native backend, Chromium for the browser tests (driven by playwright-core), then the npm dependencies
# (`npm ci` also builds the addon). Uses sudo only when not root. Idempotent: apt is skipped when the
# packages are already there. SASA_SETUP_TORCH=1 adds Debian's python3-torch (~315 MB of packages,
# 1.3 GB installed), for the PyTorch twin's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libdnnl-dev g++ make python3 chromium)
if [ "${SASA_SETUP_TORCH:-0}" = 1 ]; then packages+=(python3-torch); fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -q
  "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# onnxruntime-node (a devDependency, for the ONNX export tests) ships its CPU binary in the npm
# package; skip its install script, which would download the CUDA one from outside the registry.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
