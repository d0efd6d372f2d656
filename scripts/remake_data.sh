#!/usr/bin/env bash
# Remakes the data sets of the model card (models/MODEL_CARD.md) from their seeds: the
# evaluation sets every stage since 6 is judged on, and MIX, the training folder of stages
# 11-14. Nothing is downloaded; every generator is seeded, so a rerun gives the same files.
#
#   scripts/remake_data.sh eval [OUT]     # ~10 min on one core: synval devrot mitdev mitsyn mitsyn2 mitterr
#   scripts/remake_data.sh mix  [OUT]     # ~1 h on one core: the 2,000 POV-Ray panels of MIX
#
# OUT defaults to runs/data. Needs Python 3 with numpy, scipy and Pillow; POV-Ray for mix
# (apt install povray), Mitsuba 3 for eval (pip install mitsuba). Finished sets are skipped;
# the renderers skip finished images, so an interrupted run resumes.
set -euo pipefail
source "$(dirname "$0")/relievo-bin.sh"
what="${1:?usage: remake_data.sh eval|mix [OUT]}"
OUT="${2:-$ROOT/runs/data}"
S="$ROOT/scripts"
DEV="$ROOT/../shared/bench/dev"
mkdir -p "$OUT"
cd "$OUT"

synth() { # NAME SEED COUNT
    [ -d "$1/depth" ] || "$BIN" synth --out "$1" --count "$3" --size 320 --seed "$2"
}

case "$what" in
eval)
    synth synval 4242 32 # held-out panels of relievo's own world
    synth syn5151 5151 64
    # The dev benchmark turned by 90, 180 and 270 degrees: light from the other sides.
    [ -d devrot/depth ] || python3 - "$DEV" devrot <<'PY'
import os, sys, glob
from PIL import Image
src, out = sys.argv[1:]
for sub in ("images", "depth"):
    os.makedirs(f"{out}/{sub}", exist_ok=True)
for f in sorted(glob.glob(f"{src}/images/*.png")):
    n = os.path.basename(f)[:-4]
    im, d = Image.open(f), Image.open(f"{src}/depth/{n}.png")
    for a, t in ((90, Image.ROTATE_90), (180, Image.ROTATE_180), (270, Image.ROTATE_270)):
        im.transpose(t).save(f"{out}/images/{n}_r{a}.png")
        d.transpose(t).save(f"{out}/depth/{n}_r{a}.png")
PY
    [ -d terrain77/depth ] || python3 "$S/terrain_world.py" terrain77 --count 24 --seed 77
    # Mitsuba 3: a renderer no training set uses.
    python3 "$S/mitsuba_render.py" "$DEV" mitdev --seed 5
    python3 "$S/mitsuba_render.py" synval mitsyn --seed 6
    python3 "$S/mitsuba_render.py" syn5151 mitsyn2 --seed 9
    python3 "$S/mitsuba_render.py" terrain77 mitterr --seed 5
    ;;
mix)
    synth src7777 7777 800
    synth src8888 8888 800
    [ -d terrain1/depth ] || python3 "$S/terrain_world.py" terrain1 --count 400 --seed 1
    python3 "$S/povray_world.py" src7777 pov1 --seed 1
    python3 "$S/povray_world.py" src8888 pov2 --seed 2
    python3 "$S/povray_world.py" terrain1 pov3 --seed 3
    # MIX: the three folders side by side (file names carry their seed, so none collide).
    for set in pov1 pov2 pov3; do
        for sub in images depth edges semantics; do
            [ -d "$set/$sub" ] || continue
            mkdir -p "mix/$sub"
            for f in "$set/$sub"/*.png; do [ -e "$f" ] || continue; ln -sf "../../$f" "mix/$sub/"; done
        done
    done
    ;;
*)
    echo "remake_data.sh: unknown set '$what' (eval or mix)" >&2
    exit 2
    ;;
esac
echo "$what: done in $OUT"
