# Sourced by the scripts in scripts/ and benches/: sets ROOT (the repository) and BIN (the
# release relievo binary), building it first in the README commands' target dir (or
# $CARGO_TARGET_DIR) so a script never runs a binary older than the sources (a no-op
# build takes about a second).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --quiet)
BIN="$CARGO_TARGET_DIR/release/relievo"
