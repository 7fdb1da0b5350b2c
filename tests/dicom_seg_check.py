#!/usr/bin/python3
"""External check of the SEGs BuildDicomSeg writes: dcmdump (DCMTK) parses
each without error, and pydicom (an independent reader) finds the SOP class,
frames, segments, references, geometry and pixel values expected.

With --dciodvfy, dicom3tools' IOD validator must report no error either.

Usage: dicom_seg_check.py --samples PATH/dicom_seg_samples [--dcmdump dcmdump]
                          [--dciodvfy dciodvfy]
Runs the samples writer into a fresh temporary directory (unique per process).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom

SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"


def check(name, exp, out, dcmdump, dciodvfy, errors):
    path = os.path.join(out, name + ".dcm")

    def fail(msg):
        errors.append(f"{name}: {msg}")

    run = subprocess.run([dcmdump, "-q", path], capture_output=True, text=True)
    if run.returncode != 0 or "E:" in run.stderr:
        fail(f"dcmdump failed: rc={run.returncode} {run.stderr.strip()}")
    if dciodvfy:  # dicom3tools' IOD validator: no errors allowed
        run = subprocess.run([dciodvfy, path], capture_output=True, text=True)
        for line in (run.stdout + run.stderr).splitlines():
            if line.startswith("Error"):
                fail(f"dciodvfy: {line}")
    ds = pydicom.dcmread(path)
    sources = [pydicom.dcmread(os.path.join(out, f"{name}_source{i}.dcm"), stop_before_pixels=True)
               for i in range(exp["source_files"])]
    if ds.file_meta.TransferSyntaxUID != pydicom.uid.ExplicitVRLittleEndian:
        fail(f"transfer syntax {ds.file_meta.TransferSyntaxUID}")
    if ds.SOPClassUID != SEG_STORAGE:
        fail(f"SOP Class {ds.SOPClassUID}")
    if ds.Modality != "SEG" or ds.SegmentationType != "BINARY":
        fail("not a BINARY SEG")
    frames = exp["frames"]
    if int(ds.NumberOfFrames) != len(frames):
        fail(f"NumberOfFrames {ds.NumberOfFrames}, expected {len(frames)}")
        return
    labels = [s.SegmentLabel for s in ds.SegmentSequence]
    if labels != exp["labels"]:
        fail(f"labels {labels}")
    for s in ds.SegmentSequence:
        if s.SegmentAlgorithmType != "AUTOMATIC" or s.SegmentAlgorithmName != exp["algorithm_name"]:
            fail("segment algorithm type/name")
    if ds.StudyInstanceUID != sources[0].StudyInstanceUID:
        fail("Study Instance UID differs from the source")
    if ds.SeriesInstanceUID == sources[0].SeriesInstanceUID:
        fail("SEG reuses the source's Series Instance UID")
    ref = ds.ReferencedSeriesSequence
    if len(ref) != 1 or ref[0].SeriesInstanceUID != sources[0].SeriesInstanceUID:
        fail("Referenced Series Sequence")
    referenced = sorted(i.ReferencedSOPInstanceUID for i in ref[0].ReferencedInstanceSequence)
    if referenced != sorted({s.SOPInstanceUID for s in sources}):
        fail(f"referenced instances {referenced}")
    if exp["geometry"]:
        if ds.FrameOfReferenceUID != sources[0].FrameOfReferenceUID:
            fail("Frame of Reference UID")
        shared = ds.SharedFunctionalGroupsSequence[0]
        if [float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient] != \
                [float(v) for v in sources[0].ImageOrientationPatient]:
            fail("orientation")
        if [float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing] != \
                [float(v) for v in sources[0].PixelSpacing]:
            fail("pixel spacing")
    elif "FrameOfReferenceUID" in ds:
        fail("Frame of Reference without geometry")

    pixels = ds.pixel_array.reshape(len(frames), ds.Rows, ds.Columns)
    for f, (item, want) in enumerate(zip(ds.PerFrameFunctionalGroupsSequence, frames)):
        seg_no = item.SegmentIdentificationSequence[0].ReferencedSegmentNumber
        if seg_no != want["segment"]:
            fail(f"frame {f}: segment {seg_no}, expected {want['segment']}")
        src = item.DerivationImageSequence[0].SourceImageSequence[0]
        source = sources[0] if exp["source_frames"] else sources[want["source"]]
        if src.ReferencedSOPInstanceUID != source.SOPInstanceUID:
            fail(f"frame {f}: source instance")
        if exp["source_frames"] and int(src.ReferencedFrameNumber) != want["source"] + 1:
            fail(f"frame {f}: referenced frame {src.ReferencedFrameNumber}")
        if exp["geometry"]:
            got = [float(v) for v in item.PlanePositionSequence[0].ImagePositionPatient]
            need = np.array([float(v) for v in source.ImagePositionPatient])
            if exp["source_frames"]:  # RT Dose: along the normal by the grid offsets
                o = [float(v) for v in source.ImageOrientationPatient]
                offsets = [float(v) for v in source.GridFrameOffsetVector]
                need = need + (offsets[want["source"]] - offsets[0]) * np.cross(o[:3], o[3:])
            if not np.allclose(got, need, atol=1e-4):
                fail(f"frame {f}: position {got}, expected {need}")
        bits = np.frombuffer(want["bits"].encode(), dtype=np.uint8) - ord("0")
        if not np.array_equal(pixels[f].reshape(-1), bits):
            fail(f"frame {f}: pixel values differ ({int((pixels[f].reshape(-1) != bits).sum())})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--dcmdump", default="dcmdump")
    ap.add_argument("--dciodvfy", default="", help="dicom3tools' dciodvfy (optional)")
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="dicom_seg_check_")
    try:
        subprocess.run([args.samples, out], check=True)
        with open(os.path.join(out, "expect.json")) as f:
            expect = json.load(f)
        errors = []
        for name, exp in expect.items():
            check(name, exp, out, args.dcmdump, args.dciodvfy, errors)
        for e in errors:
            print("FAIL", e)
        print(f"checked {len(expect)} SEGs, {len(errors)} problem(s)")
        return 1 if errors else 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
