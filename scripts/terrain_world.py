#!/usr/bin/env python3
"""Writes eroded-terrain height maps (16-bit depth PNGs) as a relievo dataset source.

Landscape models and eroded rock are reliefs too, and fractal noise alone does not look
like them: real terrain is cut by branching valleys that drain into each other. This
script makes such terrain with a small landscape-evolution model (stream-power incision
along steepest-descent drainage, hillslope diffusion, uplift) on fractal noise, then adds
fine grain. Only `depth/` is written: render it with `scripts/povray_world.py SRC OUT`;
soft edges are derived from the depth by the training loader, semantics are left out.

    scripts/terrain_world.py SRC --count 400 --seed 1        # about 2 s a panel
    scripts/povray_world.py SRC OUT --seed 3
"""

import argparse
import heapq
import os

import numpy as np
from PIL import Image


def fbm(rng, n, cells, octaves, gain):
    out = np.zeros((n, n))
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        c = max(2, int(round(cells)))
        g = rng.normal(size=(c + 3, c + 3)).astype(np.float32)
        big = np.asarray(Image.fromarray(g).resize((n * (c + 3) // c, n * (c + 3) // c), Image.BICUBIC))
        ox, oy = rng.integers(0, big.shape[0] - n + 1, 2)
        out += amp * big[oy:oy + n, ox:ox + n]
        total += amp
        amp *= gain
        cells *= 2
    return out / total


OFFS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def receivers(h):
    """Steepest-descent neighbour of every cell (itself at pits and borders)."""
    n = h.shape[0]
    p = np.pad(h, 1, mode="edge")
    best = np.zeros_like(h)
    rcv = np.arange(n * n).reshape(n, n)
    yy, xx = np.mgrid[0:n, 0:n]
    for dy, dx in OFFS:
        nb = p[1 + dy:1 + dy + n, 1 + dx:1 + dx + n]
        s = (h - nb) / np.hypot(dy, dx)
        ny, nx = np.clip(yy + dy, 0, n - 1), np.clip(xx + dx, 0, n - 1)
        better = s > best
        best = np.where(better, s, best)
        rcv = np.where(better, ny * n + nx, rcv)
    # Borders drain out of the panel.
    edge = (yy == 0) | (xx == 0) | (yy == n - 1) | (xx == n - 1)
    rcv[edge] = (yy * n + xx)[edge]
    return rcv.ravel(), best.ravel()


def drainage(h, rcv):
    area = np.ones(h.size)
    order = np.argsort(-h.ravel(), kind="stable")
    for i in order:  # upstream first
        j = rcv[i]
        if j != i:
            area[j] += area[i]
    return area


def fill_pits(h, rng):
    """Priority-flood: raise every closed depression to its spill level (plus a small
    random rise per cell, so flats drain along meandering paths, not straight lines),
    so that water drains to the panel's border everywhere."""
    n = h.shape[0]
    out = h.copy()
    done = np.zeros((n, n), bool)
    heap = []
    for y in range(n):
        for x in range(n):
            if y in (0, n - 1) or x in (0, n - 1):
                heapq.heappush(heap, (out[y, x], y, x))
                done[y, x] = True
    eps = 0.03
    while heap:
        v, y, x = heapq.heappop(heap)
        for dy, dx in OFFS:
            ny, nx = y + dy, x + dx
            if 0 <= ny < n and 0 <= nx < n and not done[ny, nx]:
                done[ny, nx] = True
                if out[ny, nx] <= v:
                    out[ny, nx] = v + eps * rng.random()
                heapq.heappush(heap, (out[ny, nx], ny, nx))
    return out


def erode(h, rng, iters):
    n = h.shape[0]
    k = rng.uniform(0.03, 0.1)
    m = rng.uniform(0.4, 0.6)
    diff = rng.uniform(0.0, 0.06)
    uplift = rng.uniform(0.2, 0.6)
    for it in range(iters):
        if it % 15 == 0:
            h = fill_pits(h, rng)
        rcv, slope = receivers(h)
        area = drainage(h, rcv)
        flat = h.ravel()
        cut = k * area ** m * slope
        new = flat - cut
        # Never below the cell it drains into: no new pits.
        new = np.maximum(new, np.minimum(flat, flat[rcv]))
        h = new.reshape(n, n)
        p = np.pad(h, 1, mode="edge")
        lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * h
        h = h + diff * lap
        # Uplift everywhere but the border, which is the base level the valleys cut to.
        h[1:-1, 1:-1] += uplift
    return h


def terrain(rng, size):
    # Erode a larger area and keep its middle: the border is the base level the
    # valleys cut down to, and its cliff must not show.
    keep = size // 2
    n = keep * 5 // 4
    base = fbm(rng, n, rng.uniform(2, 5), 6, rng.uniform(0.45, 0.6))
    tilt = np.linspace(-1, 1, n)
    a = rng.uniform(0, 2 * np.pi)
    base = base + rng.uniform(0, 0.8) * (np.cos(a) * tilt[None, :] + np.sin(a) * tilt[:, None])
    h = (base - base.min()) * n * rng.uniform(0.15, 0.4)  # heights in cells
    h = erode(h, rng, int(rng.integers(40, 80)))
    m0 = (n - keep) // 2
    h = h[m0:m0 + keep, m0:m0 + keep]
    big = np.asarray(Image.fromarray(h.astype(np.float32)).resize((size, size), Image.BICUBIC)).astype(np.float64)
    rng_h = big.max() - big.min()
    grain = fbm(rng, size, size / rng.uniform(4, 12), 4, 0.6)
    big += rng_h * rng.uniform(0.003, 0.02) * (1 - 2 * np.abs(grain))
    if rng.random() < 0.3:  # a coast: the sea is flat
        level = np.quantile(big, rng.uniform(0.1, 0.45))
        big = np.maximum(big, level)
    if rng.random() < 0.1:  # terraced (rice fields, contour models)
        steps = rng.uniform(6, 14)
        t = (big - big.min()) / (big.max() - big.min()) * steps
        big = np.floor(t) + np.clip((t - np.floor(t) - 0.8) / 0.2, 0, 1)
    big = (big - big.min()) / max(big.max() - big.min(), 1e-9)
    return big


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=320)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    os.makedirs(os.path.join(args.out, "depth"), exist_ok=True)
    for i in range(args.count):
        name = "terrain_%d_%05d" % (args.seed, i)
        dst = os.path.join(args.out, "depth", name + ".png")
        if os.path.exists(dst):
            continue
        rng = np.random.default_rng([args.seed, i])
        h = terrain(rng, args.size)
        Image.fromarray((h * 65535 + 0.5).astype(np.uint16)).save(dst + ".tmp.png")
        os.replace(dst + ".tmp.png", dst)
        print("%d/%d %s" % (i + 1, args.count, name), flush=True)


if __name__ == "__main__":
    main()
