#!/usr/bin/python3
"""Prints VLSM-Adapter's results table in miniature from paper_table.sh's runs.

usage: paper_table.py OUT_DIR   (OUT_DIR/<set>/<config>/metrics.json)

Rows are methods, columns the trainable parameters and, per dataset, test
Dice and IoU (x100, threshold 0.5) and the training time. A run that has not
finished shows "-". Standard library only.
"""
import json
import os
import sys

SETS = [("polyp", "Polyp (endoscopy-like)"), ("ultrasound", "Ultrasound-like")]
METHODS = [
    ("zero_shot", "Zero-shot base"),
    ("shallow_v", "Shallow V"),
    ("shallow_vl", "Shallow VL"),
    ("shallow_vlc", "Shallow VLC"),
    ("dense_v", "Dense V"),
    ("dense_vl", "Dense VL"),
    ("dense_vlc", "Dense VLC"),
    ("full", "Full fine-tuning"),
]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def params(n):
    if n is None:
        return "-"
    if n == 0:
        return "0"
    for unit, scale in (("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return "%.2f%s" % (n / scale, unit)
    return str(n)


def score(m, key):
    if m is None:
        return "-"
    return "%.2f" % (100.0 * m["test"][key])


def seconds(m):
    if m is None:
        return "-"
    if m.get("mode") == "eval":
        return "0"
    t = m.get("train_seconds", 0)
    return "%.1f" % t if t < 100 else "%.0f" % t


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    metrics = {(s, c): load(os.path.join(out, s, c, "metrics.json")) for s, _ in SETS for c, _ in METHODS}

    header = ["Method", "Trainable params"]
    for _, title in SETS:
        header += [title + " Dice", "IoU", "train s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for config, title in METHODS:
        counts = sorted({m["trainable_params"] for s, _ in SETS for m in [metrics[(s, config)]] if m})
        cells = [title, " / ".join(params(n) for n in counts) if counts else "-"]
        for s, _ in SETS:
            m = metrics[(s, config)]
            cells += [score(m, "dice"), score(m, "iou"), seconds(m)]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))

    # What the numbers were measured on.
    notes = []
    for s, _ in SETS:
        summary = load(os.path.join(out, s, "data", "datagen.json"))
        if summary:
            sp = summary["splits"]
            notes.append("%s: %d/%d/%d train/val/test entries, %dpx, seed %d" % (
                s, sp["train"]["entries"], sp["val"]["entries"], sp["test"]["entries"],
                summary["size"], summary["seed"]))
    done = [m for m in metrics.values() if m]
    if done:
        total = sum(m.get("train_seconds", 0) for m in done if m.get("mode") != "eval")
        epochs = sorted({m.get("epochs") for m in done if m.get("mode") != "eval"})
        notes.append("%d of %d runs done; %.0f s of training in all; epochs run: %s" % (
            len(done), len(metrics), total, ", ".join(str(e) for e in epochs)))
    if notes:
        print()
        print("Test Dice and IoU x100 at threshold 0.5. " + "; ".join(notes) + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
