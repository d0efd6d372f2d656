#!/usr/bin/env bash
# Scores weights on every evaluation set of the model card (made by
# `scripts/remake_data.sh eval DATA`, plus the dev benchmark) with `relievo eval --json`,
# one JSON per set in OUT/, then its row of the card's table (`scripts/ship_rule.py`).
#
#   scripts/eval_sets.sh WEIGHTS OUT [DATA] [-- extra relievo eval options]
#
# About 4 min on 2 cores (measured 2026-12-06) for the 8 sets (346 images). Sets already scored in OUT are skipped.
set -euo pipefail
source "$(dirname "$0")/relievo-bin.sh"
weights="${1:?usage: eval_sets.sh WEIGHTS OUT [DATA] [-- options]}"
out="${2:?usage: eval_sets.sh WEIGHTS OUT [DATA] [-- options]}"
shift 2
data="$ROOT/runs/data"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then data="$1"; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
mkdir -p "$out"
for set in $(python3 "$ROOT/scripts/ship_rule.py" --sets); do
    dir="$data/$set"
    [ "$set" = dev ] && dir="$ROOT/../shared/bench/dev"
    [ -s "$out/$set.json" ] && continue
    [ -d "$dir" ] || { echo "eval_sets.sh: no set $dir (scripts/remake_data.sh eval)" >&2; exit 1; }
    "$BIN" eval --data "$dir" --weights "$weights" --device cpu --json "$@" > "$out/$set.json.tmp" 2> "$out/$set.log" ||
        { rm -f "$out/$set.json.tmp"; echo "eval_sets.sh: $set failed, see $out/$set.log" >&2; exit 1; }
    mv "$out/$set.json.tmp" "$out/$set.json"
    echo "$set scored" >&2
done
python3 "$ROOT/scripts/ship_rule.py" "$out"
