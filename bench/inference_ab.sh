#!/usr/bin/env bash
# Batch-1 inference, two checkouts of sasa and PyTorch in one sitting, alternating processes:
#   bench/inference_ab.sh OLD_DIR NEW_DIR [rounds=3] [models="resnet26 sasa_resnet26_convstem"]
# Each line: round, model, side, then bench/inference_cpu.mjs's (or bench/torch_inference_cpu.py's, resnet26)
# medians of wall and CPU ms, and the 1-minute load average. Both dist/ must be built (npm run build).
set -euo pipefail
old=$1
new=$2
rounds=${3:-3}
models=${4:-"resnet26 sasa_resnet26_convstem"}
here=$(cd "$(dirname "$0")" && pwd)
for ((r = 1; r <= rounds; r++)); do
  for model in $models; do
    for side in old new; do
      dir=$old
      [ "$side" = new ] && dir=$new
      echo "round $r $model $side $(SASA_NUM_THREADS=2 node "$here/inference_cpu.mjs" "$dir" "$model" 15) load $(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  echo "round $r resnet26 torch $(OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /usr/bin/python3 "$here/torch_inference_cpu.py" 15) load $(cut -d' ' -f1 /proc/loadavg)"
done
