#!/usr/bin/env bash
# Mutation fuzzing of every parser that reads outside data (tests/fuzz.rs), 10,000
# inputs per parser by default, one parser at a time, with the process's peak memory.
#   benches/fuzz.sh [INPUTS_PER_PARSER]
set -euo pipefail
cd "$(dirname "$0")/.."
export RELIEVO_FUZZ_ITERS="${1:-10000}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
/usr/bin/time -v cargo test --release --test fuzz -- --test-threads 1 --nocapture 2>"$log" || { cat "$log"; exit 1; }
grep -E "fuzz [a-z ]+:|test result" "$log"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$log"
