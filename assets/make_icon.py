#!/usr/bin/env python3
"""Makes relievo's icon: a small carved panel (a stupa in a raised frame) rendered the way the app
renders reliefs — a height field shaded by a raking light — written as assets/icon.png (256 × 256
RGBA) and a flat vector version, assets/icon.svg. Standard library only:

    python3 assets/make_icon.py
"""

import math
import os
import struct
import zlib

SIZE = 256
SUPER = 2  # supersampling per axis
HERE = os.path.dirname(os.path.abspath(__file__))


def smoothstep(e0, e1, x):
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def box(u, v, x0, x1, y0, y1, soft=0.02):
    """1 inside the box, easing to 0 over `soft` at its edges."""
    return (smoothstep(x0 - soft, x0 + soft, u) * (1 - smoothstep(x1 - soft, x1 + soft, u))
            * smoothstep(y0 - soft, y0 + soft, v) * (1 - smoothstep(y1 - soft, y1 + soft, v)))


def rounded_rect_alpha(u, v, half=0.94, radius=0.22, soft=0.01):
    qx, qy = abs(u) - (half - radius), abs(v) - (half - radius)
    d = math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - radius
    return 1 - smoothstep(-soft, soft, d)


def height(u, v):
    """Relief height in 0..1 at (u, v) in -1..1 (v down)."""
    # Raised frame just inside the plate's edge.
    qx, qy = abs(u) - 0.58, abs(v) - 0.58
    d = math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - 0.2
    frame = smoothstep(-0.16, -0.12, d) * (1 - smoothstep(-0.03, 0.0, d)) * 0.45
    h = frame
    # Stupa: three stepped terraces, a bell dome, a harmika and a spire.
    h = max(h, 0.22 * box(u, v, -0.56, 0.56, 0.50, 0.64))
    h = max(h, 0.32 * box(u, v, -0.46, 0.46, 0.38, 0.52))
    h = max(h, 0.42 * box(u, v, -0.36, 0.36, 0.28, 0.40))
    r2 = (u / 0.40) ** 2 + ((v - 0.28) / 0.46) ** 2
    if v <= 0.30 and r2 < 1.0:
        h = max(h, 0.42 + 0.45 * math.sqrt(1 - r2))
    h = max(h, 0.86 * box(u, v, -0.09, 0.09, -0.30, -0.18))
    if -0.62 < v < -0.28:
        half_width = 0.05 * (v + 0.62) / 0.34 + 0.012
        h = max(h, (0.80 + 0.15 * (-0.28 - v) / 0.34) * (1 - smoothstep(half_width - 0.015, half_width + 0.01, abs(u))))
    # Carved lotus dots on the lowest terrace.
    for k in range(-3, 4):
        du, dv = u - k * 0.15, v - 0.57
        rr = (du * du + dv * dv) / 0.0016
        if rr < 1:
            h -= 0.06 * (1 - rr)
    return h


def render():
    n = SIZE * SUPER
    step = 2.0 / n
    heights = [[height(-1 + (x + 0.5) * step, -1 + (y + 0.5) * step) for x in range(n)] for y in range(n)]
    light = (-math.cos(math.radians(35)) * math.cos(math.radians(45)),
             math.cos(math.radians(35)) * math.sin(math.radians(45)),
             math.sin(math.radians(35)))
    relief = 0.14  # height units per pixel pitch in u, for slope
    pixels = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SUPER):
                for sx in range(SUPER):
                    px, py = x * SUPER + sx, y * SUPER + sy
                    u, v = -1 + (px + 0.5) * step, -1 + (py + 0.5) * step
                    alpha = rounded_rect_alpha(u, v)
                    hx = heights[py][min(px + 1, n - 1)] - heights[py][max(px - 1, 0)]
                    hy = heights[min(py + 1, n - 1)][px] - heights[max(py - 1, 0)][px]
                    # Normal with y up (rows go down).
                    nx, ny, nz = -hx / (2 * step) * relief, hy / (2 * step) * relief, 1.0
                    length = math.sqrt(nx * nx + ny * ny + nz * nz)
                    lambert = max(0.0, (nx * light[0] + ny * light[1] + nz * light[2]) / length)
                    shade = 0.12 + 0.95 * lambert
                    base = (0.80, 0.60, 0.40)
                    for c in range(3):
                        acc[c] += min(1.0, base[c] * shade) * alpha
                    acc[3] += alpha
            a = acc[3] / (SUPER * SUPER)
            if acc[3] > 0:
                rgb = [acc[c] / acc[3] for c in range(3)]
            else:
                rgb = [0.0, 0.0, 0.0]
            row.extend(int(round(255 * (c ** (1 / 2.2)))) for c in rgb)
            row.append(int(round(255 * a)))
        pixels.append(bytes(row))
    return pixels


def write_png(path, rows, width, height):
    raw = b"".join(b"\x00" + r for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <!-- Flat version of assets/icon.png (made by assets/make_icon.py): a stupa carved in a framed panel. -->
  <defs>
    <linearGradient id="stone" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#f0d9b5"/><stop offset="1" stop-color="#a98a62"/>
    </linearGradient>
    <linearGradient id="lit" x1="0" y1="0" x2="1" y2="0.6">
      <stop offset="0" stop-color="#fbe8c6"/><stop offset="1" stop-color="#8d6f4b"/>
    </linearGradient>
  </defs>
  <rect x="8" y="8" width="240" height="240" rx="28" fill="url(#stone)"/>
  <rect x="30" y="30" width="196" height="196" rx="22" fill="none" stroke="#f6e3c2" stroke-width="8"/>
  <rect x="34" y="34" width="196" height="196" rx="22" fill="none" stroke="#8a6c48" stroke-width="4" opacity="0.6"/>
  <rect x="56" y="192" width="144" height="18" fill="url(#lit)"/>
  <rect x="69" y="177" width="118" height="16" fill="url(#lit)"/>
  <rect x="82" y="164" width="92" height="14" fill="url(#lit)"/>
  <path d="M77 166 A51 59 0 0 1 179 166 Z" fill="url(#lit)"/>
  <rect x="117" y="89" width="22" height="16" fill="url(#lit)"/>
  <path d="M128 40 L135 90 L121 90 Z" fill="url(#lit)"/>
</svg>
"""


def main():
    write_png(os.path.join(HERE, "icon.png"), render(), SIZE, SIZE)
    with open(os.path.join(HERE, "icon.svg"), "w") as f:
        f.write(SVG)
    print("wrote assets/icon.png and assets/icon.svg")


if __name__ == "__main__":
    main()
