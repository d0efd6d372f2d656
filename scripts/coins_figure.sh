#!/usr/bin/env bash
# Remakes models/coins_layers.png, the model card's picture: the bundled coins photo and the
# shipped model's depth, soft-edge and semantic previews side by side (`relievo layers`
# output, montaged with ImageMagick).
#
#   scripts/coins_figure.sh [WEIGHTS_DIR]
set -euo pipefail

source "$(dirname "$0")/relievo-bin.sh"
WORK="$(mktemp -d /tmp/relievo-coins.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

weights=()
[[ $# -ge 1 ]] && weights=(--weights "$1")
PHOTO="$ROOT/assets/samples/coins.png"
XDG_RUNTIME_DIR="$WORK" "$BIN" layers "$PHOTO" --out-dir "$WORK/layers" "${weights[@]}" >/dev/null
convert "$PHOTO" -colorspace sRGB "$WORK/photo.png"
convert "$WORK/photo.png" "$WORK/layers/depth_preview.png" "$WORK/layers/edges_preview.png" \
    "$WORK/layers/semantics_preview.png" -background white -gravity west -splice 8x0 -gravity north +append \
    +gravity -chop 8x0 -strip -define png:exclude-chunks=date,time "$ROOT/models/coins_layers.png"
echo "wrote models/coins_layers.png"
