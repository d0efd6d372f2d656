#!/usr/bin/env bash
# `relievo layers` on a 512×512 photo with the shipped model, whole process, on the
# CPU (and the GPU when one is present): median of 3 runs, plus the model's size.
set -euo pipefail
source "$(dirname "$0")/../scripts/relievo-bin.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" synth --out "$work/synth" --count 1 --size 512 --seed 11 >/dev/null
photo=$(ls "$work"/synth/images/*.png | head -1)
"$BIN" model-info
for device in cpu gpu; do
  if [ "$device" = gpu ] && ! "$BIN" layers "$photo" --out-dir "$work/out" --device gpu >/dev/null 2>&1; then
    echo "gpu: no hardware GPU here"
    continue
  fi
  times=()
  for run in 1 2 3; do
    start=$(date +%s.%N)
    "$BIN" layers "$photo" --out-dir "$work/out" --device "$device" --max-side 512 >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  printf '%s: relievo layers 512×512, median of 3: %.2f s (runs: %s)\n' "$device" "$median" "${times[*]}"
done
