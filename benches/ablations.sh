#!/usr/bin/env bash
# Seed 000 Table 2 ablations at a small, equal budget: every arm trained from scratch on the
# synthetic relief world with the same seed and steps, then scored on a benchmark folder
# (`relievo eval`: score_depth.py's aligned metrics) beside its best synthetic validation.
#
#   benches/ablations.sh [BENCH_DIR] [OUT_DIR]      (600 steps at crop 96 per arm, about 13 min each on 2 CPU cores)
#
# Arms whose log says they finished are not retrained; an interrupted arm resumes from its
# checkpoint (written every 100 steps and on Ctrl-C).
set -euo pipefail

source "$(dirname "$0")/../scripts/relievo-bin.sh"
BENCH="${1:-$ROOT/../shared/bench/dev}"
OUT="${2:-$ROOT/runs/ablations}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
mkdir -p "$OUT"

budget=(--synthetic --epochs 6 --steps-per-epoch 100 --batch 4 --crop 96 --lr 0.002 --device cpu --checkpoint-every 100 --resume)
arms=(
    "exp1|Exp 1: no edge module|--seed 3 --edge-mode none"
    "exp2|Exp 2: binary edges|--seed 3 --edge-mode binary"
    "exp3|Exp 3: six soft-edge classes (default)|--seed 3"
    "exp3s4|Exp 3, seed 4 (noise check)|--seed 4"
    "exp5|Exp 5: fixed k = 1|--seed 3 --no-dynamic-k"
    "exp3silog|Exp 3 with seed 000's SILog depth term|--seed 3 --depth-term silog"
    "exp3both|Exp 3 with SILog and the aligned term beside it|--seed 3 --depth-term silog --aligned 1"
    "exp3light|Exp 3 + a light head (auxiliary)|--seed 3 --light-head"
    "exp3ema|Exp 3 scored by its moving average of the weights (decay 0.99)|--seed 3 --ema 0.99"
)
for arm in "${arms[@]}"; do
    IFS='|' read -r name _ flags <<<"$arm"
    grep -qs "^finished after" "$OUT/$name.log" && continue
    echo "training $name ($flags)"
    # shellcheck disable=SC2086
    "$BIN" train "${budget[@]}" $flags --out "$OUT/$name" >>"$OUT/$name.log" 2>&1
done

echo "| arm | rmse% | normal° | edge% | d1 | inverted | best synthetic validation |"
echo "|---|---|---|---|---|---|---|"
for arm in "${arms[@]}"; do
    IFS='|' read -r name label _ <<<"$arm"
    val=$(grep "(best)" "$OUT/$name.log" | tail -1 | sed 's/.*validation: //; s/  (best)//' || true)
    "$BIN" eval --data "$BENCH" --weights "$OUT/$name/best" --json 2>/dev/null | python3 -c "
import json, sys
b = json.load(sys.stdin)['bench']
print(f\"| $label | {b['rmse_pct']:.2f} | {b['normal_deg']:.2f} | {b['edge_rmse']:.2f} | {b['d1']:.3f} | {b['inverted']} | $val |\")"
done
