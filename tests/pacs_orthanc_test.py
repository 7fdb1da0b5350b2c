#!/usr/bin/python3
"""vlsm-pacs-bridge against a real Orthanc (and a real vlsm-server on the tiny model).

Starts, on free loopback ports and in a temporary directory:
  * Orthanc with a generated configuration (HTTP + DICOM, DICOMweb plugin,
    the bridge as a DICOM modality, no authentication, loopback only);
  * vlsm-server on tests/data/clipseg-tiny + the CLIP tokenizer files;
  * vlsm-pacs-bridge, delivering SEGs back to Orthanc by C-STORE (and, in
    the restart scenario, by STOW-RS).

Scenarios:
  1. round trip: CT_small, MR_small and a synthetic 6-slice CT series are
     uploaded to Orthanc and sent to the bridge with POST
     /modalities/bridge/store; one SEG per (series, prompt) must come back and
     reference the right series and instances, with one frame per slice in
     slice order, parse with dcmdump and pydicom. Measures instances/s and
     seconds from the last slice received to the SEG stored.
  2. service down while a series arrives -> delivered once it is back.
  3. bridge killed (SIGKILL) with a series in its spool -> delivered after a
     restart (this time by STOW-RS).
  4. a non-image and a corrupt instance sent with DCMTK's storescu are refused
     with 0xA900 / 0xC000; the bridge keeps working. A processed series sent
     again is acknowledged without a second SEG; a series no rule matches is
     skipped.
  5. privacy: the bridge's log and /metrics contain no patient name, patient
     ID or UID of any instance involved.

Only the standard library and pydicom. Prints one JSON line with the
measurements; exits non-zero on the first failed check.
"""

import argparse
import copy
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pydicom
from pydicom.uid import generate_uid

BRIDGE_AE = "VLSM_BRIDGE"
ORTHANC_AE = "ORTHANC"
CT_PROMPTS = ["a bone", "soft tissue"]
MR_PROMPTS = ["the brain"]


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout, interval=0.05):
    """Polls a real condition until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Orthanc:
    def __init__(self, binary, work, plugin):
        self.http_port = free_port()
        self.dicom_port = free_port()
        self.work = work
        self.config = os.path.join(work, "orthanc.json")
        self.binary = binary
        self.plugin = plugin
        self.process = None
        self.bridge_port = None

    def start(self, bridge_port):
        self.bridge_port = bridge_port
        config = {
            "Name": "vlsm-pacs-test",
            "StorageDirectory": os.path.join(self.work, "orthanc-storage"),
            "IndexDirectory": os.path.join(self.work, "orthanc-storage"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": ORTHANC_AE,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomAlwaysAllowStore": True,
            "DicomCheckCalledAet": False,
            "DicomScuTimeout": 30,
            "StableAge": 1,
            "DicomModalities": {"bridge": [BRIDGE_AE, "127.0.0.1", bridge_port]},
            "Plugins": [self.plugin],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        with open(self.config, "w") as f:
            json.dump(config, f, indent=1)
        self.log = open(os.path.join(self.work, "orthanc.log"), "w")
        self.process = subprocess.Popen([self.binary, self.config], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_for("Orthanc's REST API", lambda: self._alive(), 60, 0.1)

    def _alive(self):
        check(self.process.poll() is None, "Orthanc exited; see orthanc.log")
        try:
            self.get("/system")
            return True
        except (urllib.error.URLError, ConnectionError):
            return False

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def request(self, method, path, body=None, content_type="application/json", timeout=120):
        data = body
        if body is not None and not isinstance(body, (bytes, bytearray)):
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            payload = r.read()
        return payload

    def get(self, path):
        return json.loads(self.request("GET", path))

    def get_bytes(self, path):
        return self.request("GET", path)

    def upload(self, part10):
        return json.loads(self.request("POST", "/instances", part10, "application/dicom"))

    def send_to_bridge(self, series_ids):
        body = {"Resources": series_ids, "Synchronous": True}
        return json.loads(self.request("POST", "/modalities/bridge/store", body))

    def seg_instances(self):
        """Orthanc IDs of every SEG instance."""
        found = json.loads(self.request("POST", "/tools/find",
                                        {"Level": "Instance", "Query": {"Modality": "SEG"}}))
        return found

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Process:
    """A child process with its output in a file."""

    def __init__(self, name, argv, work, env=None):
        self.name = name
        self.log_path = os.path.join(work, f"{name}.log")
        self.log = open(self.log_path, "a")
        self.log.write(f"\n==== start: {' '.join(argv)}\n")
        self.log.flush()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.process.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def model_dir(data, work):
    out = os.path.join(work, "model")
    os.makedirs(out)
    for f in ("config.json", "model.safetensors", "preprocessor_config.json"):
        shutil.copy(os.path.join(data, "clipseg-tiny", f), out)
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(data, "clip-tokenizer", f), out)
    return out


def part10(ds):
    buf = io.BytesIO()
    ds.save_as(buf, write_like_original=False)
    return buf.getvalue()


def synthetic_series(ct_path, slices, description, seed):
    """A CT series made from CT_small: new study/series/frame-of-reference and
    SOP UIDs, positions 2.5 mm apart along z, instance numbers shuffled so
    that only the geometry gives the right order."""
    base = pydicom.dcmread(ct_path)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    numbers = list(range(1, slices + 1))
    random.Random(seed).shuffle(numbers)
    out = []
    for i in range(slices):
        ds = copy.deepcopy(base)
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.FrameOfReferenceUID = frame
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.SeriesDescription = description
        ds.SeriesNumber = 700 + seed
        ds.InstanceNumber = numbers[i]
        x, y, _ = [float(v) for v in base.ImagePositionPatient]
        ds.ImagePositionPatient = [x, y, -80.0 + 2.5 * i]
        out.append(ds)
    return out


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix=f"vlsm_pacs_orthanc_{os.getpid()}_")
        self.bin = args.bin
        self.grpc_port = free_port()
        self.server_metrics = free_port()
        self.bridge_port = free_port()
        self.bridge_metrics = free_port()
        self.spool = os.path.join(self.work, "spool")
        self.routes = os.path.join(self.work, "routes.json")
        self.model = model_dir(args.data, self.work)
        self.orthanc = Orthanc(args.orthanc, self.work, args.dicomweb_plugin)
        self.server = None
        self.bridge = None
        self.identifiers = set()  # everything that must never appear in logs/metrics
        self.seg_source = {}  # Orthanc SEG id -> referenced series UID
        with open(self.routes, "w") as f:
            json.dump({"rules": [
                {"name": "ct", "match": {"modality": "CT", "calling_ae": ORTHANC_AE},
                 "prompts": CT_PROMPTS, "threshold": 0.5},
                {"name": "mr", "match": {"modality": "MR"}, "prompts": MR_PROMPTS},
            ]}, f)

    # -- processes -------------------------------------------------------
    def start_server(self):
        self.server = Process("server", [
            os.path.join(self.bin, "vlsm-server"), "--model", self.model,
            "--port", str(self.grpc_port), "--metrics_port", str(self.server_metrics),
            "--adapter_dir", os.path.join(self.work, "adapters"), "--threads", "2",
            "--drain_timeout", "5s"], self.work)
        wait_for("vlsm-server to listen",
                 lambda: check(self.server.alive(), "vlsm-server exited: " + self.server.text())
                 or "listening on port" in self.server.text(), 120, 0.1)

    def start_bridge(self, quiet="1", stow=False):
        argv = [os.path.join(self.bin, "vlsm-pacs-bridge"), "--spool", self.spool,
                "--routes", self.routes, "--target", f"127.0.0.1:{self.grpc_port}",
                "--ae_title", BRIDGE_AE, "--port", str(self.bridge_port),
                "--metrics_port", str(self.bridge_metrics), "--metrics_bind", "127.0.0.1",
                "--quiet_seconds", quiet, "--rpc_deadline_seconds", "5",
                "--retry_initial_seconds", "0.5", "--retry_max_seconds", "2",
                "--base_model_name", "CLIPSeg tiny"]
        if stow:
            argv += ["--stow_url", self.orthanc.url("/dicom-web")]
        else:
            argv += ["--dest_host", "127.0.0.1", "--dest_port", str(self.orthanc.dicom_port),
                     "--dest_ae", ORTHANC_AE]
        self.bridge = Process("bridge", argv, self.work)
        wait_for("the bridge to answer C-ECHO", lambda: self.echo(), 60, 0.1)

    def echo(self):
        check(self.bridge.alive(), "the bridge exited: " + self.bridge.text()[-3000:])
        r = subprocess.run(["echoscu", "-aec", BRIDGE_AE, "127.0.0.1", str(self.bridge_port)],
                           capture_output=True, timeout=30)
        return r.returncode == 0

    def bridge_metric(self, name):
        text = urllib.request.urlopen(
            f"http://127.0.0.1:{self.bridge_metrics}/metrics", timeout=10).read().decode()
        self.metrics_text = getattr(self, "metrics_text", "") + text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name):
                total += float(line.rsplit(" ", 1)[1])
        return total

    # -- data ------------------------------------------------------------
    def upload(self, datasets):
        """Uploads to Orthanc; returns (series id, [sop uids]) of the one series."""
        series_ids, sops = set(), []
        for ds in datasets:
            self.remember(ds)
            r = self.orthanc.upload(part10(ds))
            series_ids.add(r["ParentSeries"])
            sops.append(str(ds.SOPInstanceUID))
        check(len(series_ids) == 1, "the datasets span several series")
        return series_ids.pop(), sops

    def remember(self, ds):
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                        "FrameOfReferenceUID", "PatientID"):
            value = str(getattr(ds, keyword, "") or "")
            if len(value) >= 4:
                self.identifiers.add(value)
        name = str(getattr(ds, "PatientName", "") or "")
        if len(name) >= 4:
            self.identifiers.add(name)

    def segs_for(self, series_uid):
        out = []
        for oid in self.orthanc.seg_instances():
            if oid not in self.seg_source:  # a stored instance never changes: ask once
                tags = self.orthanc.get(f"/instances/{oid}/simplified-tags")
                ref = tags.get("ReferencedSeriesSequence") or []
                self.seg_source[oid] = ref[0].get("SeriesInstanceUID") if ref else None
            if self.seg_source[oid] == series_uid:
                out.append(oid)
        return out

    def wait_segs(self, series_uid, count, timeout):
        return wait_for(f"{count} SEG(s) for a series in Orthanc",
                        lambda: (lambda s: s if len(s) >= count else None)(
                            self.segs_for(series_uid)), timeout, 0.05)

    # -- checks ----------------------------------------------------------
    def verify_seg(self, oid, source_datasets, prompts):
        # Orthanc's own view: the SEG sits in the source's study, with the
        # expected number of frames.
        src_instance = self.orthanc.upload(part10(source_datasets[0]))  # already there: same ID
        seg_study = self.orthanc.get(f"/instances/{oid}/study")["ID"]
        check(seg_study == src_instance["ParentStudy"], "Orthanc filed the SEG in another study")
        tags = self.orthanc.get(f"/instances/{oid}/simplified-tags")
        check(int(tags["NumberOfFrames"]) == len(source_datasets),
              f"Orthanc reports {tags['NumberOfFrames']} frames")
        check(tags["Modality"] == "SEG", "Orthanc does not see a SEG")
        data = self.orthanc.get_bytes(f"/instances/{oid}/file")
        path = os.path.join(self.work, f"seg_{oid}.dcm")
        with open(path, "wb") as f:
            f.write(data)
        dump = subprocess.run(["dcmdump", "-q", path], capture_output=True, text=True)
        check(dump.returncode == 0, f"dcmdump failed on a SEG: {dump.stderr}")
        check("E:" not in dump.stderr, f"dcmdump errors: {dump.stderr}")
        seg = pydicom.dcmread(path)
        check(seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4", "not a Segmentation Storage object")
        check(seg.Modality == "SEG", "Modality is not SEG")
        check(seg.SegmentationType == "BINARY", "not BINARY")
        sources = sorted(source_datasets, key=lambda d: float(d.ImagePositionPatient[2]))
        src_series = str(sources[0].SeriesInstanceUID)
        check(seg.StudyInstanceUID == sources[0].StudyInstanceUID, "SEG in another study")
        check(seg.FrameOfReferenceUID == sources[0].FrameOfReferenceUID, "frame of reference")
        ref = seg.ReferencedSeriesSequence[0]
        check(ref.SeriesInstanceUID == src_series, "ReferencedSeriesSequence names another series")
        referenced = {str(i.ReferencedSOPInstanceUID) for i in ref.ReferencedInstanceSequence}
        check(referenced == {str(d.SOPInstanceUID) for d in sources},
              "the SEG does not reference exactly the source instances")
        check(len(seg.SegmentSequence) == 1, "one segment per SEG expected")
        label = seg.SegmentSequence[0].SegmentLabel
        check(label in prompts, f"segment label {label!r} is not a prompt")
        check(seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC", "algorithm type")
        check("CLIPSeg tiny" in seg.SegmentSequence[0].SegmentAlgorithmName, "algorithm name")
        frames = int(seg.NumberOfFrames)
        check(frames == len(sources), f"{frames} frames for {len(sources)} slices (empty kept)")
        pixels = seg.pixel_array
        shape = pixels.shape if frames > 1 else (1,) + pixels.shape
        check(shape == (frames, int(sources[0].Rows), int(sources[0].Columns)),
              f"SEG pixel array shape {shape}")
        for i, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
            z = float(item.PlanePositionSequence[0].ImagePositionPatient[2])
            check(abs(z - float(sources[i].ImagePositionPatient[2])) < 1e-3,
                  f"frame {i} is not on slice {i} (z {z})")
            src = item.DerivationImageSequence[0].SourceImageSequence[0]
            check(src.ReferencedSOPInstanceUID == sources[i].SOPInstanceUID,
                  f"frame {i} derives from the wrong instance")
        return label

    # -- scenarios -------------------------------------------------------
    def round_trip(self):
        ct = pydicom.dcmread(os.path.join(self.args.data, "pacs", "CT_small.dcm"))
        mr = pydicom.dcmread(os.path.join(self.args.data, "pacs", "MR_small.dcm"))
        synth = synthetic_series(os.path.join(self.args.data, "pacs", "CT_small.dcm"), 6,
                                 "synthetic chest", 1)
        cases = []
        for datasets, prompts in (([ct], CT_PROMPTS), ([mr], MR_PROMPTS), (synth, CT_PROMPTS)):
            oid, _ = self.upload(datasets)
            cases.append((oid, datasets, prompts))
        instances = sum(len(c[1]) for c in cases)
        t0 = time.monotonic()
        self.orthanc.send_to_bridge([c[0] for c in cases])
        received = time.monotonic()  # Orthanc's C-STOREs were all answered: spooled
        stored_at = {}

        def all_stored():
            for _, datasets, prompts in cases:
                uid = str(datasets[0].SeriesInstanceUID)
                if uid not in stored_at and len(self.segs_for(uid)) >= len(prompts):
                    stored_at[uid] = time.monotonic()
            return len(stored_at) == len(cases)

        wait_for("the SEGs of all three series in Orthanc", all_stored, 120, 0.05)
        for oid, datasets, prompts in cases:
            segs = self.segs_for(str(datasets[0].SeriesInstanceUID))
            check(len(segs) == len(prompts), f"{len(segs)} SEGs for {len(prompts)} prompts")
            labels = sorted(self.verify_seg(s, datasets, prompts) for s in segs)
            check(labels == sorted(prompts), f"labels {labels} != prompts {prompts}")
        synth_uid = str(synth[0].SeriesInstanceUID)
        self.processed_series_id = cases[2][0]
        return {
            "instances_sent": instances,
            "store_to_bridge_seconds": round(received - t0, 3),
            "instances_per_second_into_bridge": round(instances / max(received - t0, 1e-6), 1),
            "seconds_last_slice_to_seg_stored": round(stored_at[synth_uid] - received, 3),
            "seconds_last_slice_to_all_segs_stored": round(max(stored_at.values()) - received, 3),
            "quiet_seconds": 1.0,
            "instances_per_second_end_to_end": round(
                instances / max(max(stored_at.values()) - t0, 1e-6), 2),
        }

    def throughput(self, slices=24):
        series = synthetic_series(os.path.join(self.args.data, "pacs", "CT_small.dcm"), slices,
                                  "throughput", 9)
        oid, _ = self.upload(series)
        t0 = time.monotonic()
        self.orthanc.send_to_bridge([oid])
        received = time.monotonic()
        self.wait_segs(str(series[0].SeriesInstanceUID), len(CT_PROMPTS), 180)
        done = time.monotonic()
        # The bridge's own account: "<n> slices x <p> prompts segmented in <s> s".
        seg_seconds = None
        for line in self.bridge.text().splitlines():
            if f"{slices} slices x {len(CT_PROMPTS)} prompts segmented in" in line:
                seg_seconds = float(line.split("segmented in ")[1].split(" s")[0])
        return {"throughput_slices": slices,
                "throughput_segmentation_seconds": seg_seconds,
                "throughput_masks_per_second": round(slices * len(CT_PROMPTS) / seg_seconds, 1)
                if seg_seconds else None,
                "throughput_store_seconds": round(received - t0, 3),
                "throughput_last_slice_to_segs_stored_seconds": round(done - received, 3),
                "throughput_slices_per_second_excluding_quiet": round(
                    slices / max(done - t0 - 1.0, 1e-6), 2)}

    def service_down(self):
        self.server.stop()
        series = synthetic_series(os.path.join(self.args.data, "pacs", "CT_small.dcm"), 3,
                                  "while the service is down", 2)
        oid, _ = self.upload(series)
        retries_before = self.bridge_metric('vlsm_pacs_series_processed_total{outcome="retry"}')
        self.orthanc.send_to_bridge([oid])
        wait_for("the bridge to retry the series",
                 lambda: self.bridge_metric(
                     'vlsm_pacs_series_processed_total{outcome="retry"}') > retries_before,
                 60, 0.2)
        check(not self.segs_for(str(series[0].SeriesInstanceUID)),
              "a SEG appeared while the service was down")
        self.start_server()
        segs = self.wait_segs(str(series[0].SeriesInstanceUID), len(CT_PROMPTS), 120)
        for s in segs:
            self.verify_seg(s, series, CT_PROMPTS)

    def bridge_killed(self):
        # A long quiet time keeps the series in the spool; SIGKILL, no goodbye.
        self.bridge.stop()
        self.start_bridge(quiet="600")
        series = synthetic_series(os.path.join(self.args.data, "pacs", "CT_small.dcm"), 4,
                                  "across a bridge crash", 3)
        oid, _ = self.upload(series)
        self.orthanc.send_to_bridge([oid])
        self.bridge.stop(signal.SIGKILL)
        incoming = os.path.join(self.spool, "incoming")
        spooled = sum(len(files) for _, _, files in os.walk(incoming))
        check(spooled == 4, f"{spooled} instances in the spool after the kill, 4 expected")
        check(not self.segs_for(str(series[0].SeriesInstanceUID)), "SEG before the restart")
        self.start_bridge(quiet="1", stow=True)  # resumes from the spool, delivers by STOW-RS
        segs = self.wait_segs(str(series[0].SeriesInstanceUID), len(CT_PROMPTS), 120)
        for s in segs:
            self.verify_seg(s, series, CT_PROMPTS)
        check(self.bridge_metric('vlsm_pacs_segs_delivered_total{destination="stow"}') >= 2,
              "STOW-RS deliveries not counted")

    def rejects(self):
        ct_path = os.path.join(self.args.data, "pacs", "CT_small.dcm")
        segs_before = len(self.orthanc.seg_instances())
        no_pixels = pydicom.dcmread(ct_path)
        del no_pixels.PixelData
        no_pixels.SOPInstanceUID = generate_uid()
        no_pixels.file_meta.MediaStorageSOPInstanceUID = no_pixels.SOPInstanceUID
        corrupt = pydicom.dcmread(ct_path)
        corrupt.SOPInstanceUID = generate_uid()
        corrupt.file_meta.MediaStorageSOPInstanceUID = corrupt.SOPInstanceUID
        corrupt.PixelData = corrupt.PixelData[: len(corrupt.PixelData) // 3]
        for ds in (no_pixels, corrupt):
            self.remember(ds)
        statuses = {}
        for name, ds, expected in (("non-image", no_pixels, "0xa900"),
                                   ("corrupt", corrupt, "0xc000")):
            path = os.path.join(self.work, f"{name}.dcm")
            ds.save_as(path, write_like_original=False)
            # -d prints the response's "DIMSE Status : 0x...."; storescu's exit
            # code is not documented for a refused instance, so it is reported only.
            r = subprocess.run(["storescu", "-d", "-aec", BRIDGE_AE, "127.0.0.1",
                                str(self.bridge_port), path],
                               capture_output=True, text=True, timeout=60)
            out = (r.stdout + r.stderr).lower()
            status_lines = [l for l in out.splitlines() if "dimse status" in l]
            check(any(expected in l for l in status_lines),
                  f"storescu ({name}) did not get {expected}: {status_lines}")
            statuses[name] = {"status": expected, "storescu_exit": r.returncode}
        check(self.bridge_metric('vlsm_pacs_instances_received_total{outcome="rejected"}') >= 2,
              "rejections not counted")
        spooled = sum(len(files) for _, _, files in os.walk(os.path.join(self.spool, "incoming")))
        check(spooled == 0, "a refused instance reached the spool")
        # Nothing else disturbed: the next series goes through.
        series = synthetic_series(ct_path, 2, "after the rejects", 4)
        oid, _ = self.upload(series)
        self.orthanc.send_to_bridge([oid])
        self.wait_segs(str(series[0].SeriesInstanceUID), len(CT_PROMPTS), 120)
        check(len(self.orthanc.seg_instances()) == segs_before + len(CT_PROMPTS),
              "unexpected SEGs appeared")
        return statuses

    def resend_and_unrouted(self, processed_series_id):
        """A series sent again is acknowledged and not segmented twice; a
        series no rule matches is skipped."""
        segs_before = len(self.orthanc.seg_instances())
        dup_before = self.bridge_metric('vlsm_pacs_instances_received_total{outcome="duplicate"}')
        self.orthanc.send_to_bridge([processed_series_id])
        check(self.bridge_metric('vlsm_pacs_instances_received_total{outcome="duplicate"}')
              > dup_before, "a resent instance was not recognised as processed")
        other = synthetic_series(os.path.join(self.args.data, "pacs", "CT_small.dcm"), 2,
                                 "no rule for this", 5)
        for ds in other:
            ds.Modality = "OT"
        oid, _ = self.upload(other)
        unrouted_before = self.bridge_metric('vlsm_pacs_series_processed_total{outcome="unrouted"}')
        self.orthanc.send_to_bridge([oid])
        wait_for("the unrouted series to be skipped",
                 lambda: self.bridge_metric(
                     'vlsm_pacs_series_processed_total{outcome="unrouted"}') > unrouted_before,
                 60, 0.1)
        check(len(self.orthanc.seg_instances()) == segs_before,
              "a resent or unrouted series produced a SEG")
        check("matched no rule" in self.bridge.text(), "the skipped series was not logged")

    def privacy(self):
        self.bridge_metric("vlsm_pacs")  # appends a fresh scrape
        text = self.bridge.text() + self.metrics_text
        for ident in sorted(self.identifiers):
            check(ident not in text, f"an identifier appears in the bridge's log or metrics")
        ct = pydicom.dcmread(os.path.join(self.args.data, "pacs", "CT_small.dcm"))
        check(str(ct.PatientName) not in text, "patient name in the log")

    def close(self):
        for p in (self.bridge, self.server):
            if p is not None:
                p.stop()
        self.orthanc.stop()

    def run(self):
        try:
            self.start_server()
            self.orthanc.start(self.bridge_port)
            self.start_bridge()
            results = self.round_trip()
            results.update(self.throughput())
            self.service_down()
            self.bridge_killed()
            results["rejects"] = self.rejects()
            self.resend_and_unrouted(self.processed_series_id)
            self.privacy()
            results["seg_delivered_total"] = self.bridge_metric("vlsm_pacs_segs_delivered_total")
            print(json.dumps({"pacs_orthanc_round_trip": results}))
            if self.args.keep:
                print(f"work directory kept: {self.work}")
            return 0
        except Failure as e:
            print(f"FAILED: {e}\n(logs kept in {self.work})", file=sys.stderr)
            for p in (self.bridge, self.server):
                if p is not None:
                    print(f"---- {p.name} log tail ----\n{p.text()[-4000:]}", file=sys.stderr)
            self.work_kept = True
            return 1
        except BaseException:
            self.work_kept = True
            print(f"(logs kept in {self.work})", file=sys.stderr)
            raise
        finally:
            self.close()
            if not getattr(self, "work_kept", False) and not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="folder with vlsm-server, vlsm-pacs-bridge")
    parser.add_argument("--data", required=True, help="tests/data")
    parser.add_argument("--orthanc", default="/usr/sbin/Orthanc")
    parser.add_argument("--dicomweb_plugin",
                        default="/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    for tool in ("echoscu", "storescu", "dcmdump"):
        if shutil.which(tool) is None:
            print(f"FAILED: {tool} (Debian package dcmtk) is missing", file=sys.stderr)
            return 1
    if not os.path.exists(args.orthanc):
        print(f"FAILED: {args.orthanc} is missing (apt-get install orthanc orthanc-dicomweb)",
              file=sys.stderr)
        return 1
    return Harness(args).run()


if __name__ == "__main__":
    sys.exit(main())
