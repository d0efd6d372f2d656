#!/usr/bin/env bash
# Scores weights on every evaluation set of the model card (made by
# `scripts/remake_data.sh eval DATA`, plus the dev benchmark) with `relievo eval --json`,
# one JSON per set in OUT/; `scripts/ship_rule.py` turns them into the card's table.
#
#   scripts/eval_sets.sh WEIGHTS OUT [DATA] [-- extra relievo eval options]
#
# ~3 min on 2 cores for the 8 sets (346 images). Sets already scored in OUT are skipped.
set -euo pipefail
source "$(dirname "$0")/relievo-bin.sh"
weights="${1:?usage: eval_sets.sh WEIGHTS OUT [DATA] [-- options]}"
out="${2:?usage: eval_sets.sh WEIGHTS OUT [DATA] [-- options]}"
shift 2
data="$ROOT/runs/data"
if [ $# -gt 0 ] && [ "$1" != "--" ]; then data="$1"; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
mkdir -p "$out"
for set in dev devrot synval mitdev mitsyn mitsyn2 syn5151 mitterr; do
    dir="$data/$set"
    [ "$set" = dev ] && dir="$ROOT/../shared/bench/dev"
    [ -s "$out/$set.json" ] && continue
    [ -d "$dir" ] || { echo "eval_sets.sh: no set $dir (scripts/remake_data.sh eval)" >&2; exit 1; }
    "$BIN" eval --data "$dir" --weights "$weights" --device cpu --json "$@" > "$out/$set.json.tmp" 2> "$out/$set.log"
    mv "$out/$set.json.tmp" "$out/$set.json"
    python3 - "$out/$set.json" "$set" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["bench"]
print(f"{sys.argv[2]:8} {b['rmse_pct']:6.2f} % {b['normal_deg']:6.2f}° inverted {b['inverted']}/{b['n']}")
PY
done
