#!/usr/bin/python3
"""Tests for model/tools/vlsm-convert-ckpt.

Run: /usr/bin/python3 tests/convert_ckpt_test.py --converter PATH --data DIR
(DIR = tests/data/clipseg-tiny). Needs Debian's python3-torch and numpy.

Safetensors files are parsed with the small reader below, independent of the
converter's own writer.
"""

import argparse
import collections
import functools
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import types
import unittest

import numpy as np
import torch

CONVERTER = None
DATA = None

ADAPTER_MODULES = ("vision_extract_adapters", "text_extract_adapters", "v_attn_adapters",
                   "v_out_adapters", "l_attn_adapters", "l_out_adapters", "cond_adapter")
METADATA_KEYS = ["format", "variant", "class", "adapter_dim", "cond_adapter_dim",
                 "adapter_in_v", "adapter_in_l", "adapter_in_cond", "task", "prompts",
                 "threshold", "base_model", "base_fingerprint", "source"]
NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
                "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1}


# ---------------------------------------------------------------------------
# A tiny safetensors reader.

class Safetensors(object):
    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        if len(raw) < 8:
            raise ValueError("%s: shorter than 8 bytes" % path)
        (n,) = struct.unpack("<Q", raw[:8])
        if 8 + n > len(raw):
            raise ValueError("%s: header length %d past end of file" % (path, n))
        self.header_len = n
        self.header_bytes = raw[8:8 + n]
        pairs = json.loads(self.header_bytes.decode("utf-8"),
                           object_pairs_hook=lambda kv: kv)  # keep order
        self.header_keys = [k for k, _ in pairs]
        self.metadata = None
        self.tensors = collections.OrderedDict()  # name -> (dtype, shape, bytes, offsets)
        data = raw[8 + n:]
        self.data_len = len(data)
        for name, info in pairs:
            if name == "__metadata__":
                self.metadata = collections.OrderedDict(info)
                continue
            info = dict(info)
            begin, end = info["data_offsets"]
            shape = list(info["shape"])
            numel = 1
            for d in shape:
                numel *= d
            if end - begin != numel * DTYPE_SIZES[info["dtype"]] or not 0 <= begin <= end <= len(data):
                raise ValueError("%s: bad offsets for %s" % (path, name))
            self.tensors[name] = (info["dtype"], shape, data[begin:end], (begin, end))

    def array(self, name):
        dtype, shape, data, _ = self.tensors[name]
        return np.frombuffer(data, dtype=NUMPY_DTYPES[dtype]).reshape(shape)

    def torch_tensor(self, name):
        return torch.from_numpy(self.array(name).copy())


def fingerprint_of(st):
    """base_fingerprint definition, computed from a safetensors file's raw bytes."""
    h = hashlib.sha256()
    for name in sorted(st.tensors, key=lambda s: s.encode("utf-8")):
        if name.endswith("position_ids"):
            continue
        dtype, shape, data, _ = st.tensors[name]
        h.update(name.encode("utf-8") + b"\0" + dtype.encode() + b"\0" +
                 ",".join(str(d) for d in shape).encode() + b"\0" + data)
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------------------

def run_converter(*args):
    cmd = [CONVERTER] if os.access(CONVERTER, os.X_OK) else [sys.executable, CONVERTER]
    return subprocess.run(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


def base_state_dict(prefix="net.clipseg."):
    model = Safetensors(os.path.join(DATA, "model.safetensors"))
    return collections.OrderedDict(
        (prefix + name, model.torch_tensor(name)) for name in model.tensors)


def adapter_state_dict(variant, prefix="net.", cast=None):
    st = Safetensors(os.path.join(DATA, "adapters", variant + ".safetensors"))
    out = collections.OrderedDict()
    for name in st.tensors:
        t = st.torch_tensor(name)
        out[prefix + name] = t if cast is None else t.to(cast)
    return out


class ConvertCkptTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.ckpt = os.path.join(DATA, "adapters", "shallow_vlc.ckpt")
        cls.model = Safetensors(os.path.join(DATA, "model.safetensors"))
        cls.model_fingerprint = fingerprint_of(cls.model)
        # One conversion of the shipped checkpoint, shared by several tests.
        cls._tmp = tempfile.TemporaryDirectory()
        cls.shallow_out = os.path.join(cls._tmp.name, "shallow_vlc.safetensors")
        cls.shallow_proc = run_converter(
            cls.ckpt, cls.shallow_out, "--task", "polyp", "--prompt", "a round polyp",
            "--prompt", "colon \"polyp\" \u00e9", "--threshold", "0.35",
            "--base-model", "clipseg-tiny")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def assertConverted(self, proc, out):
        self.assertEqual(proc.returncode, 0, "converter failed:\n" + proc.stderr)
        self.assertTrue(os.path.isfile(out))
        return Safetensors(out)

    def assertFailed(self, proc, out, message_re):
        self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stderr, message_re)
        self.assertFalse(os.path.exists(out), "output written despite the error")
        leftovers = [n for n in os.listdir(os.path.dirname(out))
                     if n.startswith("." + os.path.basename(out))]
        self.assertEqual(leftovers, [], "temporary files left behind")

    def assertSameTensors(self, got, want):
        self.assertEqual(list(got.tensors), list(want.tensors))
        for name in want.tensors:
            gd, gs, gb, _ = got.tensors[name]
            wd, ws, wb, _ = want.tensors[name]
            self.assertEqual((gd, gs), ("F32", ws), name)
            self.assertEqual(wd, "F32", name)
            self.assertTrue(gb == wb, "bytes differ for " + name)

    def assertContiguousOffsets(self, st):
        pos = 0
        for name, (_, _, _, (begin, end)) in st.tensors.items():
            self.assertEqual(begin, pos, name)
            pos = end
        self.assertEqual(pos, st.data_len)

    # -- the shipped Lightning checkpoint -----------------------------------

    def test_shallow_ckpt_matches_reference_adapter_file(self):
        got = self.assertConverted(self.shallow_proc, self.shallow_out)
        want = Safetensors(os.path.join(DATA, "adapters", "shallow_vlc.safetensors"))
        self.assertEqual(len(want.tensors), 28)
        self.assertSameTensors(got, want)
        self.assertContiguousOffsets(got)
        self.assertTrue(all(k.split(".")[0] in ADAPTER_MODULES for k in got.tensors))

    def test_metadata(self):
        st = self.assertConverted(self.shallow_proc, self.shallow_out)
        self.assertEqual(st.header_keys[0], "__metadata__")
        md = st.metadata
        self.assertEqual(list(md), METADATA_KEYS)
        for k, v in md.items():
            self.assertIsInstance(v, str, k)
        self.assertEqual(md["format"], "vlsm-adapter/1")
        self.assertEqual(md["variant"], "shallow_vlc")
        self.assertEqual(md["class"], "CLIPSegShallowAdapter")
        self.assertEqual(md["adapter_dim"], "8")
        self.assertEqual(md["cond_adapter_dim"], "256")
        self.assertEqual((md["adapter_in_v"], md["adapter_in_l"], md["adapter_in_cond"]),
                         ("true", "true", "true"))
        self.assertEqual(md["task"], "polyp")
        self.assertEqual(json.loads(md["prompts"]),
                         ["a round polyp", "colon \"polyp\" \u00e9"])
        self.assertEqual(float(md["threshold"]), 0.35)
        self.assertEqual(md["base_model"], "clipseg-tiny")
        self.assertEqual(md["source"], "shallow_vlc.ckpt epoch=3 step=100")
        # The reference adapter file agrees on the structural fields.
        ref = Safetensors(os.path.join(DATA, "adapters", "shallow_vlc.safetensors")).metadata
        for k in ("variant", "class", "adapter_dim", "cond_adapter_dim", "adapter_in_v",
                  "adapter_in_l", "adapter_in_cond"):
            self.assertEqual(md[k], ref[k], k)

    def test_defaults(self):
        out = self.path("defaults.safetensors")
        st = self.assertConverted(run_converter(self.ckpt, out, "--task", "a" * 64), out)
        self.assertEqual(st.metadata["task"], "a" * 64)
        self.assertEqual(st.metadata["prompts"], "[]")
        self.assertEqual(st.metadata["threshold"], "0.5")
        self.assertEqual(st.metadata["base_model"], "")

    def test_stdout_summary(self):
        proc = self.shallow_proc
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stdout)
        summary = json.loads(lines[0])
        want = Safetensors(os.path.join(DATA, "adapters", "shallow_vlc.safetensors"))
        self.assertEqual(summary["out"], self.shallow_out)
        self.assertEqual(summary["variant"], "shallow_vlc")
        self.assertEqual(summary["task"], "polyp")
        self.assertEqual(summary["tensors"], 28)
        self.assertEqual(summary["parameters"], sum(len(b) // 4 for _, _, b, _ in want.tensors.values()))
        self.assertEqual(summary["bytes"], os.path.getsize(self.shallow_out))
        self.assertRegex(proc.stderr, r"(?i)trusted")

    def test_base_fingerprint_matches_model_safetensors(self):
        st = self.assertConverted(self.shallow_proc, self.shallow_out)
        self.assertRegex(self.model_fingerprint, r"^sha256:[0-9a-f]{64}$")
        self.assertEqual(st.metadata["base_fingerprint"], self.model_fingerprint)
        print("\nbase_fingerprint(clipseg-tiny/model.safetensors) = %s"
              % self.model_fingerprint, file=sys.stderr)

    def test_header_is_8_aligned(self):
        st = self.assertConverted(self.shallow_proc, self.shallow_out)
        self.assertEqual(st.header_len % 8, 0)
        self.assertEqual((8 + st.header_len) % 8, 0)
        text = st.header_bytes.decode("utf-8")
        self.assertTrue(text.startswith("{"))
        self.assertEqual(text.rstrip(" ")[-1], "}")
        self.assertLess(len(text) - len(text.rstrip(" ")), 8)

    # -- pickles with globals that are not importable -----------------------

    def test_foreign_class_in_hyper_parameters(self):
        modname = "vlsm_throwaway_training_code_%d" % os.getpid()
        mod = types.ModuleType(modname)

        class FakeOptimizer(object):
            def __init__(self, params=None, lr=0.1):
                self.lr = lr

        class FakeConfig(object):
            pass

        for cls in (FakeOptimizer, FakeConfig):
            cls.__module__ = modname
            cls.__qualname__ = cls.__name__
            setattr(mod, cls.__name__, cls)
        cfg = FakeConfig()
        cfg.__dict__.update({"name": "clipseg_shallow_adapter", "nested": [1, 2.5, "x"]})

        src = torch.load(self.ckpt, map_location="cpu")
        src["hyper_parameters"] = dict(src["hyper_parameters"])
        src["hyper_parameters"]["optimizer"] = functools.partial(FakeOptimizer, lr=1e-3)
        src["hyper_parameters"]["net_config"] = cfg
        for zip_format in (True, False):  # current and legacy torch.save formats
            with self.subTest(zip_format=zip_format):
                ckpt = self.path("foreign.ckpt")
                sys.modules[modname] = mod
                try:
                    torch.save(src, ckpt, _use_new_zipfile_serialization=zip_format)
                finally:
                    del sys.modules[modname]
                # The module really is gone: a plain torch.load cannot read the file.
                with self.assertRaises((ImportError, AttributeError)):
                    torch.load(ckpt, map_location="cpu")

                out = self.path("foreign.safetensors")
                proc = run_converter(ckpt, out, "--task", "polyp")
                st = self.assertConverted(proc, out)
                self.assertIn(modname, proc.stderr)
                want = Safetensors(os.path.join(DATA, "adapters", "shallow_vlc.safetensors"))
                self.assertSameTensors(st, want)
                self.assertEqual(st.metadata["source"], "foreign.ckpt epoch=3 step=100")
                self.assertEqual(st.metadata["base_fingerprint"], self.model_fingerprint)

    def test_importable_but_unneeded_global_is_not_called(self):
        marker = self.path("marker-dir")

        class Hostile(object):
            def __reduce__(self):
                return (os.makedirs, (marker,))

        ckpt = self.path("hostile.ckpt")
        torch.save({"state_dict": adapter_state_dict("shallow_v"),
                    "hyper_parameters": {"x": Hostile()}}, ckpt)
        out = self.path("hostile.safetensors")
        proc = run_converter(ckpt, out, "--task", "t")
        self.assertConverted(proc, out)
        self.assertFalse(os.path.exists(marker), "os.makedirs ran while unpickling")

    # -- errors --------------------------------------------------------------

    def test_invalid_task_names(self):
        for task in ["", "Polyp", "-polyp", "_x", ".x", "a b", "polyp\n", "p/q",
                     "a" * 65, "caf\u00e9"]:
            out = self.path("bad-task.safetensors")
            proc = run_converter(self.ckpt, out, "--task", task)
            self.assertFailed(proc, out, r"task")

    def test_invalid_threshold(self):
        for threshold in ["0", "1", "1.5", "-0.1", "nan", "abc"]:
            out = self.path("bad-threshold.safetensors")
            proc = run_converter(self.ckpt, out, "--task", "polyp", "--threshold", threshold)
            self.assertFailed(proc, out, r"threshold")

    def test_missing_task(self):
        out = self.path("no-task.safetensors")
        self.assertFailed(run_converter(self.ckpt, out), out, r"--task")

    def test_no_adapter_tensors(self):
        ckpt = self.path("base-only.ckpt")
        torch.save({"epoch": 1, "state_dict": base_state_dict()}, ckpt)
        out = self.path("base-only.safetensors")
        proc = run_converter(ckpt, out, "--task", "polyp")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertFailed(proc, out, r"no adapter tensors")

    def test_missing_input(self):
        out = self.path("missing.safetensors")
        proc = run_converter(self.path("does-not-exist.ckpt"), out, "--task", "polyp")
        self.assertFailed(proc, out, r"does-not-exist\.ckpt")

    def test_not_a_checkpoint(self):
        ckpt = self.path("garbage.ckpt")
        with open(ckpt, "wb") as f:
            f.write(b"this is not a checkpoint\n")
        out = self.path("garbage.safetensors")
        self.assertFailed(run_converter(ckpt, out, "--task", "polyp"), out,
                          r"cannot load checkpoint")

    def test_mixed_shallow_and_dense_is_rejected(self):
        sd = adapter_state_dict("shallow_v")
        sd.update(adapter_state_dict("dense_v"))
        ckpt = self.path("mixed.ckpt")
        torch.save({"state_dict": sd}, ckpt)
        out = self.path("mixed.safetensors")
        self.assertFailed(run_converter(ckpt, out, "--task", "polyp"), out, r"inconsistent")

    def test_no_vision_adapters_is_rejected(self):
        sd = collections.OrderedDict(
            (k, v) for k, v in adapter_state_dict("shallow_vlc").items()
            if k.startswith("net.cond_adapter."))
        ckpt = self.path("cond-only.ckpt")
        torch.save({"state_dict": sd}, ckpt)
        out = self.path("cond-only.safetensors")
        self.assertFailed(run_converter(ckpt, out, "--task", "polyp"), out, r"vision")

    def test_failed_conversion_keeps_existing_output(self):
        out = self.path("existing.safetensors")
        with open(out, "wb") as f:
            f.write(b"old")
        ckpt = self.path("base-only.ckpt")
        torch.save({"state_dict": base_state_dict()}, ckpt)
        proc = run_converter(ckpt, out, "--task", "polyp")
        self.assertEqual(proc.returncode, 2)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"old")

    # -- synthesized checkpoints --------------------------------------------

    def test_dense_vlc_checkpoint(self):
        sd = base_state_dict()
        for k, v in base_state_dict().items():  # the duplicate `net.clip.*`
            if k.startswith("net.clipseg.clip."):
                sd["net." + k[len("net.clipseg."):]] = v
        sd.update(adapter_state_dict("dense_vlc"))
        ckpt = self.path("dense_vlc.ckpt")
        torch.save({"epoch": 7, "global_step": 1234, "state_dict": sd,
                    "hyper_parameters": {"threshold": 0.5}}, ckpt)
        out = self.path("dense_vlc.safetensors")
        proc = run_converter(ckpt, out, "--task", "skin-lesion.v2")
        st = self.assertConverted(proc, out)
        self.assertNotIn("warning", proc.stderr)
        want = Safetensors(os.path.join(DATA, "adapters", "dense_vlc.safetensors"))
        self.assertEqual(len(want.tensors), 52)
        self.assertSameTensors(st, want)
        self.assertContiguousOffsets(st)
        md = st.metadata
        self.assertEqual(md["variant"], "dense_vlc")
        self.assertEqual(md["class"], "CLIPSegDenseAdapter")
        self.assertEqual((md["adapter_dim"], md["cond_adapter_dim"]), ("8", "256"))
        self.assertEqual((md["adapter_in_v"], md["adapter_in_l"], md["adapter_in_cond"]),
                         ("true", "true", "true"))
        self.assertEqual(md["task"], "skin-lesion.v2")
        self.assertEqual(md["source"], "dense_vlc.ckpt epoch=7 step=1234")
        self.assertEqual(md["base_fingerprint"], self.model_fingerprint)

    def test_other_variants_and_plain_state_dict(self):
        # A bare state dict (no 'state_dict' key, no `net.` prefix, no base):
        # converts, with an empty fingerprint and a warning.
        for variant, cls in [("shallow_v", "CLIPSegShallowAdapter"),
                             ("shallow_vl", "CLIPSegShallowAdapter"),
                             ("dense_v", "CLIPSegDenseAdapter"),
                             ("dense_vl", "CLIPSegDenseAdapter")]:
            ckpt = self.path(variant + ".pt")
            torch.save(adapter_state_dict(variant, prefix=""), ckpt)
            out = self.path(variant + ".safetensors")
            proc = run_converter(ckpt, out, "--task", variant)
            st = self.assertConverted(proc, out)
            want = Safetensors(os.path.join(DATA, "adapters", variant + ".safetensors"))
            self.assertSameTensors(st, want)
            self.assertEqual(st.metadata["variant"], variant)
            self.assertEqual(st.metadata["class"], cls)
            self.assertEqual(st.metadata["adapter_in_l"], "true" if "l" in variant[-2:] else "false")
            self.assertEqual(st.metadata["adapter_in_cond"], "false")
            self.assertEqual(st.metadata["base_fingerprint"], "")
            self.assertEqual(st.metadata["source"], variant + ".pt")
            self.assertRegex(proc.stderr, r"warning: .*base")

    def test_half_precision_sources_are_upcast(self):
        for dtype in (torch.float16, torch.bfloat16):
            sd = base_state_dict()
            sd.update(adapter_state_dict("shallow_vlc", cast=dtype))
            sd["net.loss_fn.weight"] = torch.ones(2)
            ckpt = self.path("half.ckpt")
            torch.save({"state_dict": sd}, ckpt)
            out = self.path("half.safetensors")
            proc = run_converter(ckpt, out, "--task", "polyp")
            st = self.assertConverted(proc, out)
            self.assertRegex(proc.stderr, r"warning: .*loss_fn\.weight")
            for name, value in adapter_state_dict("shallow_vlc", prefix="", cast=dtype).items():
                dt, shape, data, _ = st.tensors[name]
                self.assertEqual((dt, shape), ("F32", list(value.shape)), name)
                self.assertEqual(data, value.to(torch.float32).numpy().astype("<f4").tobytes(),
                                 name)
            self.assertEqual(st.metadata["base_fingerprint"], self.model_fingerprint)


def main():
    global CONVERTER, DATA
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--converter", required=True)
    parser.add_argument("--data", required=True)
    args, rest = parser.parse_known_args()
    CONVERTER = os.path.abspath(args.converter)
    DATA = os.path.abspath(args.data)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
