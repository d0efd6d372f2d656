#!/usr/bin/env bash
# How long a newcomer waits: clones this repository into a temporary folder and, with an empty
# build cache, times the README's two commands in the given order.
#
#   scripts/fresh_build_timing.sh run-first    # `cargo run --release` until the window is up, then scripts/test.sh
#   scripts/fresh_build_timing.sh test-first   # the other order
#
# "Until the window is up" = the relievo binary has been running under Xvfb for 5 s (it is then
# stopped). Needs xvfb-run (scripts/test.sh installs it). Takes ~40 min of every core; run it on
# an otherwise idle machine. Logs go to $OUT (default /tmp/relievo-fresh-timing).
set -euo pipefail
order=${1:?usage: $0 run-first|test-first}
repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/relievo-fresh-timing}
rm -rf "$OUT" && mkdir -p "$OUT"
git clone -q "$repo" "$OUT/clone"
cd "$OUT/clone"
export CARGO_TARGET_DIR="$OUT/target"

run_until_window() {
  local start=$SECONDS
  XDG_RUNTIME_DIR=$(mktemp -d) xvfb-run -a -s "-screen 0 1280x800x24" cargo run --release >"$OUT/run.log" 2>&1 &
  local pid=$!
  until pgrep -f "$CARGO_TARGET_DIR/release/relievo\$" >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "cargo run ended before the window opened (see $OUT/run.log)"; exit 1; }
    sleep 1
  done
  sleep 5
  echo "cargo run --release until the window: $((SECONDS - start)) s"
  pkill -f "$CARGO_TARGET_DIR/release/relievo\$" || true
  wait $pid 2>/dev/null || true
}

run_tests() {
  local start=$SECONDS
  scripts/test.sh >"$OUT/test.log" 2>&1
  echo "scripts/test.sh: $((SECONDS - start)) s"
}

total=$SECONDS
case $order in
  run-first) run_until_window; run_tests ;;
  test-first) run_tests; run_until_window ;;
  *) echo "usage: $0 run-first|test-first"; exit 2 ;;
esac
echo "both: $((SECONDS - total)) s"
