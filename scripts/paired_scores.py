#!/usr/bin/env python3
"""Is one model better than another on a dataset, or is the difference noise?

Scores each image of a dataset (depth/) with the benchmark's scorer for a reference
prediction folder and one or more others (`relievo layers DATASET/images --out-dir DIR`:
DIR/NAME/depth.png), and prints, per other folder, the mean per-image difference to the
reference in rmse (points of %) and normal error (degrees) with its standard error
(paired: the same images), and on how many images it is better. A difference within
about one standard error is not a measured gain or loss.

    scripts/paired_scores.py ../shared/bench/dev runs/pred/default runs/pred/mine [...]
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset")
    p.add_argument("reference")
    p.add_argument("others", nargs="+")
    p.add_argument("--scorer-dir", default=os.path.join(HERE, "..", "..", "shared", "bench"))
    args = p.parse_args()
    sys.path.insert(0, args.scorer_dir)
    from score_depth import load_height, score

    names = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(args.dataset, "depth")))
    if len(names) < 2:
        sys.exit("%s: fewer than two images" % args.dataset)

    def scores(pred_dir):
        rows = []
        for n in names:
            truth = load_height(os.path.join(args.dataset, "depth", n + ".png"))
            path = os.path.join(pred_dir, n, "depth.png")
            if not os.path.exists(path):
                sys.exit("%s: no prediction for %s" % (pred_dir, n))
            r = score(truth, load_height(path, truth.shape), False)
            rows.append((r["rmse_pct"], r["normal_deg"]))
        return np.array(rows)

    ref = scores(args.reference)
    print("%s: %s %.2f %% / %.2f° over %d images" % (args.dataset, args.reference, *ref.mean(0), len(names)))
    for other in args.others:
        d = scores(other) - ref
        se = d.std(0, ddof=1) / np.sqrt(len(d))
        print(
            "  %s − reference: rmse %+.3f ± %.3f, normal %+.3f ± %.3f (better on %d of %d)"
            % (other, d[:, 0].mean(), se[0], d[:, 1].mean(), se[1], (d[:, 0] < 0).sum(), len(d))
        )


if __name__ == "__main__":
    main()
