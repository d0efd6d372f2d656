#!/usr/bin/env bash
# Runs the real relievo window under Xvfb on a sample photo and saves a screenshot of the whole
# screen (ImageMagick `import -window root`) as assets/screenshot.png. Also logs every frame's
# UI time (RELIEVO_FRAME_LOG) and prints the frame-time summary while the network was running.
#
#   scripts/screenshot.sh [PHOTO] [SECONDS]
#
# Without PHOTO, a synthetic relief panel made by `relievo synth` is used. The weights are
# models/default when they exist; otherwise a short `relievo train` run on synthetic panels makes
# some (clearly not the shipped model, but the real pipeline end to end); an exported
# RELIEVO_MODELS with a default/ folder is used as is. Needs xvfb, imagemagick
# and a Vulkan driver (mesa-vulkan-drivers: lavapipe on machines without a GPU).
set -euo pipefail

source "$(dirname "$0")/relievo-bin.sh"
WAIT_SECS="${2:-40}"
OUT="$ROOT/assets/screenshot.png"
WORK="$(mktemp -d /tmp/relievo-shot.XXXXXX)"
trap 'kill "${APP_PID:-}" "${XVFB_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A clean environment: no saved window layout or settings from earlier runs.
export XDG_RUNTIME_DIR="$WORK/runtime" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

PHOTO="${1:-}"
if [[ -z "$PHOTO" ]]; then
    "$BIN" synth --out "$WORK/synth" --count 1 --size 512 --seed 11 >/dev/null
    PHOTO="$(ls "$WORK"/synth/images/* | head -n 1)"
fi

if [[ -n "${RELIEVO_MODELS:-}" && -f "$RELIEVO_MODELS/default/model.bpk" ]]; then
    echo "weights: $RELIEVO_MODELS/default"
elif [[ -f "$ROOT/models/default/model.bpk" ]]; then
    export RELIEVO_MODELS="$ROOT/models"
else
    echo "no models/default yet: training stand-in weights for the screenshot (a minute or two)…"
    "$BIN" train --synthetic --epochs 1 --steps-per-epoch 120 --batch 2 --crop 96 --val-count 2 \
        --out "$WORK/run" >/dev/null
    mkdir -p "$WORK/models"
    ln -s "$WORK/run/best" "$WORK/models/default"
    export RELIEVO_MODELS="$WORK/models"
fi

export RELIEVO_FRAME_LOG="$WORK/frames.log"
# Repaint continuously so the log holds every frame, including those while the network runs.
export RELIEVO_CONTINUOUS_REPAINT=1

DISPLAY_NUM=":$((90 + RANDOM % 9))"
Xvfb "$DISPLAY_NUM" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
export DISPLAY="$DISPLAY_NUM"
sleep 1

"$BIN" "$PHOTO" >"$WORK/app.log" 2>&1 &
APP_PID=$!
sleep "$WAIT_SECS"
if ! kill -0 "$APP_PID" 2>/dev/null; then
    echo "relievo exited early:" >&2
    cat "$WORK/app.log" >&2
    exit 1
fi
import -window root "$OUT"
echo "wrote $OUT"

# Frame log columns: seconds, UI work ms, interval ms (or -), busy (inference/training running).
# The first two frames (window creation, font atlas) are left out.
awk '
    NR <= 2 { next }
    { n++; if ($2 > max) max = $2; sum += $2 }
    $3 != "-" { m++; if ($3 > imax) imax = $3; isum += $3 }
    $4 == 1 { b++; if ($2 > bmax) bmax = $2; bsum += $2 }
    $4 == 1 && $3 != "-" { bi++; if ($3 > bimax) bimax = $3; bisum += $3 }
    END {
        printf "all frames: %d, UI work mean %.1f ms, max %.1f ms; frame interval mean %.1f ms, max %.1f ms\n",
            n, sum / (n ? n : 1), max, isum / (m ? m : 1), imax
        printf "during inference: %d frames, UI work mean %.1f ms, max %.1f ms; frame interval mean %.1f ms, max %.1f ms\n",
            b, bsum / (b ? b : 1), bmax, bisum / (bi ? bi : 1), bimax
    }' "$RELIEVO_FRAME_LOG"
if [[ -n "${FRAME_LOG_COPY:-}" ]]; then cp "$RELIEVO_FRAME_LOG" "$FRAME_LOG_COPY"; fi
