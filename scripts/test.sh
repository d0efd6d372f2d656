#!/usr/bin/env bash
# The test command of the README: installs what a fresh Debian/Ubuntu machine lacks
# for the GPU/GUI tests (Xvfb, Mesa's software Vulkan), then runs every test with
# `cargo test --release --workspace` under a virtual display, in the same target directory as
# `cargo run --release`.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb xauth mesa-vulkan-drivers libvulkan1 libgl1 libegl1 libxkbcommon-x11-0)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# Cargo's own target/ unless the caller chose one (.ci/run keeps its cache outside the
# clone): the app command (`cargo run --release`) then reuses this build and vice versa.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# Two test threads at most: the network tests are CPU-heavy on small machines.
xvfb-run -a -s "-screen 0 1280x800x24" cargo test --release --workspace -- --test-threads 2
