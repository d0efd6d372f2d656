"""Seed 003's mesher, vectorised: every 2×2 pixel block becomes two triangles of an
open triangle soup (no walls, no bottom), saved as binary STL with numpy-stl.

usage: python3 benches/seed003_numpy.py DEPTH_800.png OUT.stl [RUNS]
Same physical sizing as relievo's bench: 150 mm wide, 5 mm relief on a 2 mm base.
Prints the median time from the decoded depth array to the written STL.
"""
import statistics
import sys
import time

import numpy as np
from PIL import Image
from stl import mesh as stl_mesh, Mode

WIDTH_MM, RELIEF_MM, BASE_MM = 150.0, 5.0, 2.0


def depth_to_stl(depth, path):
    h, w = depth.shape
    lo, hi = depth.min(), depth.max()
    z = BASE_MM + RELIEF_MM * (depth - lo) / (hi - lo)
    pitch = WIDTH_MM / (w - 1)
    ys, xs = np.mgrid[0:h, 0:w]
    v = np.stack([xs * pitch, (h - 1 - ys) * pitch, z], axis=-1).astype(np.float32)
    # Block (i, j) = column i, row j: triangles (i+1,j),(i,j+1),(i,j) and (i+1,j+1),(i,j+1),(i+1,j).
    p00, p10 = v[:-1, :-1], v[:-1, 1:]
    p01, p11 = v[1:, :-1], v[1:, 1:]
    first = np.stack([p10, p01, p00], axis=-2).reshape(-1, 3, 3)
    second = np.stack([p11, p01, p10], axis=-2).reshape(-1, 3, 3)
    soup = stl_mesh.Mesh(np.zeros(first.shape[0] + second.shape[0], dtype=stl_mesh.Mesh.dtype))
    soup.vectors[: first.shape[0]] = first
    soup.vectors[first.shape[0]:] = second
    soup.save(path, mode=Mode.BINARY)
    return len(soup.vectors)


def main():
    depth = np.asarray(Image.open(sys.argv[1]), dtype=np.float64)
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        count = depth_to_stl(depth, sys.argv[2])
        times.append(time.perf_counter() - start)
    print(f"numpy + numpy-stl (seed 003 soup): {count} triangles, depth → binary STL "
          f"median {statistics.median(times):.4f} s ({runs} runs)")


if __name__ == "__main__":
    main()
