#!/usr/bin/env bash
# A model step of two checkouts of sasa (each with its addon built), alternating processes in one
# sitting, so a refactor's before/after is measured on the same machine minutes apart:
#   bench/ab_builds.sh OLD_DIR NEW_DIR [rounds=3] [models="resnet26 sasa_resnet26"] [case="--train --batch 8"]
# Prints one JSON line per run (`sasa bench model CASE --size 224`) tagged with its side;
# compare the per-side medians.
set -euo pipefail
old=$1
new=$2
rounds=${3:-3}
models=${4:-"resnet26 sasa_resnet26"}
read -r -a case <<<"${5:-"--train --batch 8"}"
for ((r = 1; r <= rounds; r++)); do
  for model in $models; do
    for side in old new; do
      dir=$old
      [ "$side" = new ] && dir=$new
      line=$(cd "$dir" && npx tsx src/cli/main.ts bench model --model "$model" "${case[@]}" --size 224 \
        --runs 3 --warmup 1 --require-native --json)
      echo "{\"round\":$r,\"side\":\"$side\",\"result\":$line}"
    done
  done
done
