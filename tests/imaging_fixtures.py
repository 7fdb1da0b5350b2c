#!/usr/bin/python3
"""Writes tests/data/imaging/fixtures.safetensors: reference outputs of Pillow
and torch for the imaging tests (preprocess_test, mask_test, image_decode_test).

Regenerate (Debian's python3 with python3-pil 9.4 and python3-torch 1.13):
  /usr/bin/python3 tests/imaging_fixtures.py tests/data/imaging/fixtures.safetensors

Tensors (i = 0, 1, ... until absent):
  resize.<i>.in  uint8 [h, w, c]    c = 1 (PIL 'L') or 3 ('RGB')
  resize.<i>.out uint8 [oh, ow, c]  Image.fromarray(in).resize((ow, oh), BILINEAR)
  bilinear.<i>.in  float32 [h, w]
  bilinear.<i>.out float32 [oh, ow]  F.interpolate(bilinear, align_corners=False)
  nearest.<i>.in  uint8 [h, w]       0/1
  nearest.<i>.out uint8 [oh, ow]     F.interpolate(mode='nearest-exact')
  jpeg.<o>.bytes uint8 [n]           a PIL JPEG carrying EXIF orientation o
  jpeg.<o>.rgb   uint8 [h, w, 3]     ImageOps.exif_transpose(Image.open(..)).convert('RGB')
  png.<kind>.bytes uint8 [n]         a PIL PNG of mode P (palette), P with transparency, LA,
  png.<kind>.rgb   uint8 [h, w, 3]   1 (1-bit) or RGBA, and its Image.open(..).convert('RGB')
"""
import io
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

DTYPES = {np.uint8: "U8", np.float32: "F32"}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": DTYPES[array.dtype.type], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))


def main(path):
    rng = np.random.default_rng(20240611)
    out = {}

    resize_cases = [  # h, w, c, oh, ow
        (1, 1, 3, 5, 7), (1, 1, 1, 1, 1), (5, 7, 3, 1, 1), (1, 9, 3, 4, 1), (50, 1, 3, 7, 3),
        (37, 53, 3, 10, 17), (100, 80, 3, 33, 29), (64, 64, 1, 96, 96), (3, 4, 3, 50, 41),
        (17, 13, 3, 17, 6), (17, 13, 3, 5, 13), (20, 20, 3, 20, 20), (120, 90, 3, 7, 3),
        (2, 2, 3, 3, 3), (150, 200, 1, 96, 96), (24, 24, 1, 352, 90), (11, 97, 1, 96, 96),
    ]
    for _ in range(30):
        c = int(rng.choice([1, 3]))
        resize_cases.append((int(rng.integers(1, 50)), int(rng.integers(1, 50)), c,
                             int(rng.integers(1, 64)), int(rng.integers(1, 64))))
    for i, (h, w, c, oh, ow) in enumerate(resize_cases):
        if i % 3 == 0:  # smooth content as well as noise
            yy, xx = np.mgrid[0:h, 0:w]
            img = ((yy * 7 + xx * 13)[..., None] * np.arange(1, c + 1) % 256).astype(np.uint8)
        else:
            img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        pil = Image.fromarray(img[..., 0] if c == 1 else img)
        res = np.asarray(pil.resize((ow, oh), resample=Image.BILINEAR, reducing_gap=None))
        out[f"resize.{i}.in"] = img
        out[f"resize.{i}.out"] = res.reshape(oh, ow, c)

    bilinear_cases = [(96, 96, 75, 100), (20, 20, 37, 37), (96, 96, 64, 80), (5, 7, 3, 11),
                      (1, 1, 4, 4), (8, 8, 8, 8), (3, 9, 9, 2), (33, 35, 217, 61)]
    for i, (h, w, oh, ow) in enumerate(bilinear_cases):
        x = (rng.standard_normal((h, w)) * 5).astype(np.float32)
        y = F.interpolate(torch.from_numpy(x)[None, None], size=(oh, ow), mode="bilinear",
                          align_corners=False)[0, 0].numpy()
        out[f"bilinear.{i}.in"] = x
        out[f"bilinear.{i}.out"] = np.ascontiguousarray(y)

    nearest_cases = [(96, 96, 150, 200), (96, 96, 128, 128), (96, 96, 64, 80), (7, 5, 13, 3),
                     (10, 10, 3, 3), (3, 7, 333, 1), (35, 35, 621, 77)]
    for i, (h, w, oh, ow) in enumerate(nearest_cases):
        m = rng.integers(0, 2, (h, w), dtype=np.uint8)
        y = F.interpolate(torch.from_numpy(m.astype(np.float64))[None, None], size=(oh, ow),
                          mode="nearest-exact")[0, 0].numpy().astype(np.uint8)
        out[f"nearest.{i}.in"] = m
        out[f"nearest.{i}.out"] = y

    yy, xx = np.mgrid[0:40, 0:56]
    base = np.stack([yy * 6, xx * 4, (yy + xx) * 2], -1).astype(np.uint8)
    base[:10, :14] = [255, 0, 0]  # a marked corner
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buf = io.BytesIO()
        Image.fromarray(base).save(buf, format="JPEG", quality=92, exif=exif.tobytes())
        data = buf.getvalue()
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
        out[f"jpeg.{orientation}.bytes"] = np.frombuffer(data, np.uint8)
        out[f"jpeg.{orientation}.rgb"] = rgb

    img = rng.integers(0, 256, (9, 13, 4), dtype=np.uint8)
    img[0, 0] = [10, 20, 30, 0]  # fully transparent: the colour must survive
    pngs = {
        "palette": Image.fromarray(img[..., :3]).quantize(16),
        "palette_trns": Image.fromarray(img[..., :3]).quantize(16),
        "la": Image.fromarray(img[..., :2], "LA"),
        "bits1": Image.fromarray(img[..., 0] > 127),
        "rgba": Image.fromarray(img, "RGBA"),
    }
    pngs["palette_trns"].info["transparency"] = 3
    for kind, pil in pngs.items():
        buf = io.BytesIO()
        pil.save(buf, format="PNG")
        data = buf.getvalue()
        out[f"png.{kind}.bytes"] = np.frombuffer(data, np.uint8)
        out[f"png.{kind}.rgb"] = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    write_safetensors(path, out)


if __name__ == "__main__":
    main(sys.argv[1])
