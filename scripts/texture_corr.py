#!/usr/bin/env python3
"""How much a height follows the photo's texture: the texture shortcut.

For each image of a dataset (images/, depth/) and a prediction folder from `relievo layers
DATASET/images --out-dir PRED_DIR` (PRED_DIR/NAME/depth.png), the Pearson correlation
between the photo's local texture energy (grey high-pass at sigma 3 px, squared, smoothed at
sigma 12 px) and the height: the truth's, then the prediction's. A network that reads busy
texture as raised relief scores well above the truth.

    scripts/texture_corr.py ../shared/bench/dev runs/pred/dev [--prefix terrain]
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))


def texture_energy(path):
    grey = np.asarray(Image.open(path).convert("L"), float)
    return gaussian_filter((grey - gaussian_filter(grey, 3)) ** 2, 12)


def corr(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset")
    p.add_argument("pred_dir")
    p.add_argument("--prefix", default="", help="only images whose name starts with this")
    p.add_argument("--scorer-dir", default=os.path.join(HERE, "..", "..", "shared", "bench"))
    args = p.parse_args()
    sys.path.insert(0, args.scorer_dir)
    from score_depth import load_height
    names = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(args.dataset, "depth")))
    truth, pred = [], []
    for n in (n for n in names if n.startswith(args.prefix)):
        g = load_height(os.path.join(args.dataset, "depth", n + ".png"))
        e = texture_energy(os.path.join(args.dataset, "images", n + ".png"))
        if e.shape != g.shape:
            sys.exit("%s: photo and depth differ in size" % n)
        truth.append(corr(e, g))
        pred.append(corr(e, load_height(os.path.join(args.pred_dir, n, "depth.png"), g.shape)))
        print("%-24s truth %.2f  prediction %.2f" % (n, truth[-1], pred[-1]))
    if not truth:
        sys.exit("no images")
    print("%-24s truth %.2f  prediction %.2f  (%d images)" % ("mean", np.mean(truth), np.mean(pred), len(truth)))


if __name__ == "__main__":
    main()
