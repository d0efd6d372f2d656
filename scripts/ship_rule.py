#!/usr/bin/env python3
"""The model card's ship rule v2, applied to folders written by scripts/eval_sets.sh.

    python3 scripts/ship_rule.py BASE [CANDIDATE ...]
    python3 scripts/ship_rule.py --sets       # the set names, for scripts/eval_sets.sh

Prints rmse % / normal ° / inverted per set for each folder, then, for each candidate, the
verdict against BASE (the shipped model): it ships only if all four clauses hold —
1. the pooled Mitsuba synthetic panels (mitsyn 32 + mitsyn2 64, per-image mean): lower rmse
   and lower normal error;
2. Mitsuba dev truths (mitdev): lower rmse and lower normal error;
3. dev, dev turned (devrot) and held-out synthetic (synval): rmse not worse by more than 0.1;
4. no more inverted reliefs in all over dev, devrot, synval, mitdev and mitsyn.
"""
import json
import os
import sys

SETS = ["dev", "devrot", "synval", "mitdev", "mitsyn", "mitsyn2", "syn5151", "mitterr"]


def load(folder):
    out = {}
    for s in SETS:
        path = os.path.join(folder, s + ".json")
        if not os.path.exists(path):
            sys.exit(f"ship_rule.py: {path} is missing (scripts/eval_sets.sh WEIGHTS {folder})")
        with open(path) as f:
            b = json.load(f)["bench"]
        out[s] = (b["rmse_pct"], b["normal_deg"], b["inverted"], b["n"])
    pool = [out["mitsyn"], out["mitsyn2"]]
    n = sum(p[3] for p in pool)
    out["pooled"] = tuple(sum(p[i] * p[3] for p in pool) / n for i in (0, 1))
    return out


def verdict(base, cand):
    fails = []
    for key, name in (("pooled", "pooled Mitsuba synthetic"), ("mitdev", "Mitsuba dev truths")):
        if not (cand[key][0] < base[key][0] and cand[key][1] < base[key][1]):
            fails.append(f"{name} {cand[key][0]:.2f}/{cand[key][1]:.3f} vs {base[key][0]:.2f}/{base[key][1]:.3f}")
    for key in ("dev", "devrot", "synval"):
        if cand[key][0] > base[key][0] + 0.1:
            fails.append(f"{key} rmse {cand[key][0]:.2f} vs {base[key][0]:.2f} (+0.1 allowed)")
    inv = lambda r: sum(r[k][2] for k in ("dev", "devrot", "synval", "mitdev", "mitsyn"))
    if inv(cand) > inv(base):
        fails.append(f"inverted {inv(cand)} vs {inv(base)}")
    return fails


def main():
    if sys.argv[1:] == ["--sets"]:
        print(" ".join(SETS))
        return
    if len(sys.argv) < 2:
        sys.exit("usage: ship_rule.py BASE [CANDIDATE ...]")
    rows = [(p, load(p)) for p in sys.argv[1:]]
    print("| | " + " | ".join(SETS) + " | pooled (96) |")
    print("|---" * (len(SETS) + 2) + "|")
    for p, r in rows:
        cells = [f"{r[s][0]:.2f} / {r[s][1]:.2f} / {r[s][2]}" for s in SETS]
        cells.append(f"{r['pooled'][0]:.2f} / {r['pooled'][1]:.3f}")
        print(f"| {os.path.basename(p.rstrip('/'))} | " + " | ".join(cells) + " |")
    base = rows[0][1]
    for p, r in rows[1:]:
        fails = verdict(base, r)
        print(f"{p}: " + ("PASSES" if not fails else "fails: " + "; ".join(fails)))


if __name__ == "__main__":
    main()
