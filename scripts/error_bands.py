#!/usr/bin/env python3
"""Where a depth prediction's error is: low or high spatial frequencies.

    scripts/error_bands.py DATASET PRED_DIR [--sigma 12] [--oracles] [--shifts R] [--strips OUT.png]

DATASET/images, DATASET/depth and PRED_DIR/NAME.png as for ../shared/bench/score_depth.py,
whose scoring (least-squares scale and shift, rmse %, normal error, edge rmse) is used
as is (it is imported from SCORER_DIR, default ../shared/bench beside the repo). Each
prediction, once aligned, is split by a Gaussian of --sigma px into a low-frequency part
(the blur) and a high-frequency part (the rest), and scored again with one part replaced
by the truth's:

  model                 the prediction as it is
  LF truth + HF model   what the score would be with the right large-scale shape
  LF model + HF truth   ... with the right fine detail (slopes, edges, texture)

--oracles also scores versions of the truth itself (blurred, shifted, noisy, a mask):
what each kind of error costs on each metric. --shifts R scores the prediction moved by every
whole-pixel (dx, dy) up to R px (edges repeated): the best shift shared by all images and the
best of each image (an oracle) tell whether misregistration is part of the error. --strips
writes photo | truth | aligned prediction | residual for every image (grey, 160 px high).
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, shift

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("pred_dir")
    ap.add_argument("--sigma", type=float, default=12.0)
    ap.add_argument("--oracles", action="store_true")
    ap.add_argument("--shifts", type=int, default=0)
    ap.add_argument("--strips")
    ap.add_argument("--scorer-dir", default=os.path.join(HERE, "..", "..", "shared", "bench"))
    a = ap.parse_args()
    sys.path.insert(0, a.scorer_dir)
    from score_depth import load_height, score

    names = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(a.dataset, "depth")))
    rows, strips = {}, []
    moves = [(dy, dx) for dy in range(-a.shifts, a.shifts + 1) for dx in range(-a.shifts, a.shifts + 1)]
    moved = []  # per image, per move: rmse %, normal error
    rng = np.random.default_rng(0)
    for n in names:
        pp = os.path.join(a.pred_dir, n + ".png")
        if not os.path.exists(pp):
            continue
        g = load_height(os.path.join(a.dataset, "depth", n + ".png"))
        g = (g - g.min()) / max(g.max() - g.min(), 1e-9)
        p = load_height(pp, g.shape)
        design = np.stack([p.ravel() - p.mean(), np.ones(p.size)], 1)
        (s, t), *_ = np.linalg.lstsq(design, g.ravel(), rcond=None)
        aligned = s * (p - p.mean()) + t
        low = lambda x: gaussian_filter(x, a.sigma)
        cases = {
            "model": p,
            "LF truth + HF model": low(g) + aligned - low(aligned),
            "LF model + HF truth": low(aligned) + g - low(g),
        }
        if a.oracles:
            cases.update({
                "truth blurred, sigma 2 px": gaussian_filter(g, 2),
                "truth blurred, sigma 6 px": gaussian_filter(g, 6),
                "truth shifted 2 px": shift(g, (2, 2), mode="nearest"),
                "truth + noise (sd 5 %)": g + rng.normal(0, 0.05, g.shape),
                "truth's HF only (no LF)": g - low(g),
                "raised mask (truth > 5 %)": (g > 0.05).astype(float),
            })
        for k, v in cases.items():
            r = score(g, v, allow_flip=False)
            rows.setdefault(k, []).append((r["rmse_pct"], r["normal_deg"], r["edge_rmse"]))
        if a.shifts:
            moved.append([[score(g, shift(p, m, order=1, mode="nearest"), allow_flip=False)[k]
                           for k in ("rmse_pct", "normal_deg")] for m in moves])
        if a.strips:
            im = np.asarray(Image.open(os.path.join(a.dataset, "images", n + ".png")).convert("L")
                            .resize(g.shape[::-1]), dtype=float) / 255
            strips.append(np.concatenate([im, g, np.clip(aligned, 0, 1), np.clip(0.5 + aligned - g, 0, 1)], 1))
    print(f"{'':28} {'rmse%':>7} {'normal°':>8} {'edge%':>7}   ({len(rows.get('model', []))} images, sigma {a.sigma} px)")
    for k, v in rows.items():
        m = np.array(v).mean(0)
        print(f"{k:28} {m[0]:7.2f} {m[1]:8.2f} {m[2]:7.2f}")
    if moved:
        t = np.array(moved)  # images × moves × 2
        best = t[:, :, 0].mean(0).argmin()
        each = t[np.arange(len(t)), t[:, :, 0].argmin(1)].mean(0)
        dy, dx = moves[best]
        print(f"{f'best shared shift ({dx:+d}, {dy:+d}) px':28} {t[:, best, 0].mean():7.2f} {t[:, best, 1].mean():8.2f}")
        print(f"{'best shift of each image':28} {each[0]:7.2f} {each[1]:8.2f}")
    if a.strips and strips:
        small = [Image.fromarray((x * 255).astype(np.uint8)).resize((x.shape[1] * 160 // x.shape[0], 160)) for x in strips]
        w = small[0].size[0]
        sheet = Image.new("L", (2 * w, 160 * ((len(small) + 1) // 2)))
        for i, x in enumerate(small):
            sheet.paste(x, ((i % 2) * w, (i // 2) * 160))
        sheet.save(a.strips)


if __name__ == "__main__":
    main()
