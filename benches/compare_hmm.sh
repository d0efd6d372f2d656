#!/usr/bin/env bash
# Compares relievo's simplified mesher with fogleman/hmm on the same 16-bit depth map.
#
#   usage: benches/compare_hmm.sh PATH/TO/hmm [WORK_DIR]
#
# Build hmm first (https://github.com/fogleman/hmm: `apt-get install libglm-dev; make`);
# this script downloads nothing. It
#  1. runs the `mesh` bench binary with RELIEVO_BENCH_PNG_DIR=WORK_DIR: it writes the
#     bench's synthetic relief as depth_800.png and depth_1187.png (16-bit, full 0..65535
#     range), meshes them as read back, and prints triangle counts, median times and the
#     hmm flags that ask for the same solid;
#  2. runs hmm five times on depth_1187.png with those flags.
#
# Units: relievo makes the relief 150 mm wide and 5 mm deep on a 2 mm base and allows a
# vertical error of 1 % of the relief (0.05 mm). hmm's -z is the relief depth in pixel
# widths (5 mm / (150 mm / 1186 px) = 39.53), -e the error relative to that depth (0.01)
# and -b the base relative to it (2 / 5 = 0.4). hmm's "triangles" include its base;
# relievo's "solid" time is comparable with hmm's "triangulating" + "adding solid base",
# relievo's "depth → binary STL" with hmm's total less "loading heightmap".
set -euo pipefail

hmm=${1:?usage: benches/compare_hmm.sh PATH/TO/hmm [WORK_DIR]}
dir=${2:-$(mktemp -d)}
mkdir -p "$dir"
cd "$(dirname "$0")/.."

RELIEVO_BENCH_PNG_DIR="$dir" cargo bench --quiet --bench mesh | tee "$dir/relievo.txt"
read -r -a flags <<<"$(sed -n 's/.*hmm equivalent: //p' "$dir/relievo.txt")"
for run in 1 2 3 4 5; do
    echo "hmm run $run: $hmm depth_1187.png hmm_1187.stl ${flags[*]}"
    "$hmm" "$dir/depth_1187.png" "$dir/hmm_1187.stl" "${flags[@]}" | sed 's/^/    /'
done
