#!/usr/bin/python3
"""Reference pixel values for tests/dicom_decode_test.cc.

For every file under --root (recursively) this writes what pydicom makes of
it into --out: index.json plus, per checked frame, raw little-endian float32
values (H x W x C, row-major) of

    apply_modality_lut(pixel_array)            (grayscale)
    convert_color_space(pixel_array, YBR_FULL -> RGB)   (YBR_FULL[_422])
    pixel_array                                 (RGB)

for frame 0 and the last frame. When pydicom has no handler for the pixel
data here (JPEG lossless/12-bit, JPEG-LS; Pillow's JPEG 2000 decoder gives
up on some non-conformant streams), DCMTK's dcmdjpeg / dcmdjpls / dcmdrle
decompress the file first (no colour conversion: +cn) and pydicom reads the
result, or OpenJPEG's opj_decompress decodes each JPEG 2000 frame (with
pydicom's sign correction); the index says which reference was used.

Statuses in index.json: "ok" (reference written), "no_pixel_data",
"not_dicom" (pydicom cannot read it, even with force=True), "no_reference"
(every reference failed; "reason" says why).

Needs /usr/bin/python3 with numpy, pydicom and Pillow (Debian python3-numpy,
python3-pydicom, python3-pil), and the dcmtk and libopenjp2-tools packages.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.encaps import generate_pixel_data_frame
from pydicom.pixel_data_handlers.util import (
    apply_modality_lut, convert_color_space, get_j2k_parameters)
from pydicom import uid as uids

JPEG_UIDS = {
    uids.JPEGBaseline8Bit, uids.JPEGExtended12Bit, uids.JPEGLosslessP14,
    uids.JPEGLosslessSV1, "1.2.840.10008.1.2.4.53", "1.2.840.10008.1.2.4.55",
}
JPEG_LS_UIDS = {uids.JPEGLSLossless, uids.JPEGLSNearLossless}
RLE_UIDS = {uids.RLELossless}
J2K_UIDS = {uids.JPEG2000Lossless, uids.JPEG2000}


def read(path):
    """The dataset, or None when pydicom cannot read it at all."""
    try:
        return pydicom.dcmread(path)
    except InvalidDicomError:
        pass
    except Exception:  # noqa: BLE001 - anything pydicom chokes on
        return None
    try:
        ds = pydicom.dcmread(path, force=True)
        if "PixelData" not in ds or "Rows" not in ds:
            return None
    except Exception:  # noqa: BLE001
        return None
    # A bare dataset: tell pixel_array how it was encoded.
    if not getattr(ds.file_meta, "TransferSyntaxUID", None):
        if ds.is_implicit_VR:
            ds.file_meta.TransferSyntaxUID = uids.ImplicitVRLittleEndian
        elif ds.is_little_endian:
            ds.file_meta.TransferSyntaxUID = uids.ExplicitVRLittleEndian
        else:
            ds.file_meta.TransferSyntaxUID = uids.ExplicitVRBigEndian
    return ds


def expected_frames(ds, frame_array=None):
    """[(frame index, float32 H x W x C array)] for frame 0 and the last.

    `frame_array(f)` gives frame f's stored values; pixel_array by default.
    """
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    spp = int(ds.SamplesPerPixel)
    pi = str(ds.PhotometricInterpretation).strip()
    if frame_array is None:
        arr = ds.pixel_array
        if frames == 1:
            arr = arr[np.newaxis, ...]
        frame_array = lambda f: arr[f]  # noqa: E731
    out = []
    for f in sorted({0, frames - 1}):
        a = np.array(frame_array(f))
        if spp == 1:
            a = a[..., np.newaxis]
        if pi in ("YBR_FULL", "YBR_FULL_422"):
            a = convert_color_space(a, "YBR_FULL", "RGB")
        if spp == 1:
            a = apply_modality_lut(a, ds)
        out.append((f, np.asarray(a, dtype=np.float64).astype("<f4")))
    return out


def via_opj_decompress(path):
    """expected_frames() with each JPEG 2000 frame decoded by OpenJPEG's own
    opj_decompress (package libopenjp2-tools), pydicom's J2K sign correction
    applied (unsigned codestream, Pixel Representation 1)."""
    exe = shutil.which("opj_decompress")
    if exe is None:
        raise FileNotFoundError("opj_decompress not installed (libopenjp2-tools)")
    ds = read(path)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    encoded = list(generate_pixel_data_frame(ds.PixelData, frames))
    rows, cols, spp = int(ds.Rows), int(ds.Columns), int(ds.SamplesPerPixel)

    def frame_array(f):
        data = encoded[f]
        start = data.find(b"\xff\x4f\xff\x51")
        params = get_j2k_parameters(data[start:]) if start >= 0 else {}
        precision, signed = params["precision"], params["is_signed"]
        suffix = ".jp2" if data[:4] == b"\x00\x00\x00\x0c" else ".j2k"
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "in" + suffix), os.path.join(tmp, "out.rawl")
            with open(src, "wb") as fh:
                fh.write(data)
            proc = subprocess.run([exe, "-i", src, "-o", dst], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"opj_decompress failed: {proc.stderr.strip()[:120]}")
            width = 1 if precision <= 8 else 2 if precision <= 16 else 4
            dtype = f"<{'i' if signed else 'u'}{width}"
            planes = np.fromfile(dst, dtype=dtype).astype(np.int64)
        a = planes.reshape(spp, rows, cols).transpose(1, 2, 0)
        if int(ds.PixelRepresentation) == 1 and not signed:
            a = np.where(a >= 1 << (precision - 1), a - (1 << precision), a)
        return a if spp > 1 else a[..., 0]

    return expected_frames(ds, frame_array)


# Transfer syntax -> DCMTK tool (and options) that decompresses it.
DCMTK_TOOLS = {**{ts: ("dcmdjpeg", ["+cn"]) for ts in JPEG_UIDS},
               **{ts: ("dcmdjpls", []) for ts in JPEG_LS_UIDS},
               **{ts: ("dcmdrle", []) for ts in RLE_UIDS}}


def via_dcmtk(path, tool, opts):
    """expected_frames() of the file decompressed by a DCMTK tool."""
    exe = shutil.which(tool)
    if exe is None:
        raise FileNotFoundError(f"{tool} not installed")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "decompressed.dcm")
        proc = subprocess.run([exe, *opts, path, out], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed: {proc.stderr.strip()[:120]}")
        return expected_frames(pydicom.dcmread(out))


def describe(ds):
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    window = None
    if "WindowCenter" in ds and "WindowWidth" in ds:
        c, w = ds.WindowCenter, ds.WindowWidth
        c = c[0] if isinstance(c, pydicom.multival.MultiValue) else c
        w = w[0] if isinstance(w, pydicom.multival.MultiValue) else w
        window = [float(c), float(w)]
    return {
        "frames": frames,
        "rows": int(ds.Rows),
        "cols": int(ds.Columns),
        "channels": int(ds.SamplesPerPixel),
        "photometric": str(ds.PhotometricInterpretation).strip(),
        "transfer_syntax": str(ds.file_meta.TransferSyntaxUID),
        "fractional": bool(slope != int(slope) or intercept != int(intercept)),
        "monochrome1": str(ds.PhotometricInterpretation).strip() == "MONOCHROME1",
        "window": window,
    }


def reference(path, out_dir, stem):
    entry = {}
    ds = read(path)
    if ds is None:
        return {"status": "not_dicom", "reason": "pydicom cannot read it"}
    if "PixelData" not in ds:
        return {"status": "no_pixel_data", "reason": "no Pixel Data"}
    try:
        entry.update(describe(ds))
    except Exception as e:  # noqa: BLE001
        return {"status": "no_reference", "reason": f"header: {type(e).__name__}: {e}"}
    ts = entry["transfer_syntax"]
    attempts = [("pydicom", lambda: expected_frames(ds))]
    if ts in J2K_UIDS:
        attempts.append(("opj_decompress (sign-corrected as pydicom)",
                         lambda: via_opj_decompress(path)))
    if ts in DCMTK_TOOLS:
        tool, opts = DCMTK_TOOLS[ts]
        attempts.append((" ".join([tool, *opts, "then pydicom"]),
                         lambda: via_dcmtk(path, tool, opts)))
    errors = []
    for source, attempt in attempts:
        try:
            frames = attempt()
            break
        except Exception as e:  # noqa: BLE001
            line = (str(e).splitlines() or [""])[0][:120]
            errors.append(f"{source}: {type(e).__name__}: {line}")
    else:
        return dict(entry, status="no_reference", reason="; ".join(errors))
    checked = []
    for f, a in frames:
        name = f"{stem}_f{f}.f32"
        a.tofile(os.path.join(out_dir, name))
        checked.append({"frame": f, "file": name, "shape": list(a.shape)})
    return dict(entry, status="ok", reference=source, checked=checked)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    os.makedirs(args.out, exist_ok=True)
    files = []
    paths = []
    for dirpath, dirnames, filenames in os.walk(args.root):
        dirnames.sort()
        paths += [os.path.join(dirpath, f) for f in sorted(filenames)]
    for i, path in enumerate(paths):
        rel = os.path.relpath(path, args.root)
        entry = reference(path, args.out, f"{i:04d}")
        files.append(dict(entry, path=rel))
    index = {"pydicom": pydicom.__version__, "numpy": np.__version__, "files": files}
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
