#!/usr/bin/env bash
# Installs the PyTorch peer the benchmarks compare against: Debian's python3-torch (1.13, CPU,
# oneDNN) with OpenBLAS as its BLAS (Debian's default libblas3 is the single-threaded reference
# BLAS, 50x slower at 1024^3), and python3-torchvision (0.14: the detection peers' RetinaNet). Uses sudo
# only when not root.
set -euo pipefail
as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q python3-torch python3-torchvision libopenblas0-pthread
