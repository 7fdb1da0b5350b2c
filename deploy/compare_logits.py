#!/usr/bin/python3
"""Prints how far vlsm-infer's logits are from the reference (demo output)."""
import json
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end],
                                  dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


cases = load(sys.argv[1])
print(f"{'variant':<12} {'max|d|':>10} {'mean|d|':>10} {'mask px':>8}")
for variant in ["base", "shallow_v", "shallow_vl", "shallow_vlc", "dense_v", "dense_vl",
                "dense_vlc", "converted"]:
    ref = cases["logits." + ("shallow_vlc" if variant == "converted" else variant)]
    got = load(f"{sys.argv[2]}/logits_{variant}.safetensors")["logits"]
    d = np.abs(got - ref)
    print(f"{variant:<12} {d.max():>10.2e} {d.mean():>10.2e} {int((got > 0).sum()):>8}")
