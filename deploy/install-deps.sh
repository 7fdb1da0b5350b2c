#!/usr/bin/env bash
# Installs every Debian 12 package vlsm-serve needs to build, test and run.
# Idempotent; needs root (CI runs as root) or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev                 # LibTorch 1.13.1 (CPU)
  libopenblas0-pthread         # replaces netlib's reference libblas.so.3 (~15x faster GEMM)
  libabsl-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev
  libicu-dev libre2-dev zlib1g-dev  # CLIP BPE tokenizer: Unicode case/normalization, \p{L} classes, .gz vocab
  libopencv-core-dev libopencv-imgcodecs-dev libopencv-imgproc-dev  # PNG/JPEG/TIFF/BMP/WebP
  libdcmtk-dev dcmtk libopenjp2-7-dev  # DICOM (+ JPEG 2000 frames via OpenJPEG)
  python3-pydicom python3-pil libopenjp2-tools  # reference DICOM files and pixel arrays for the decoder tests
  dicom3tools  # dciodvfy validates the DICOM SEG objects we write (tests/dicom_seg_check.py)
  dpkg-dev libprotobuf-dev protobuf-compiler  # deploy/build-sentencepiece.sh: apt-get source, build against system protobuf
  libgrpc++-dev protobuf-compiler-grpc        # gRPC C++ (+ grpc_cpp_plugin for generated stubs)
  prometheus-cpp-dev libcurl4-openssl-dev     # /metrics exposer (+ the pull client the tests scrape with)
  orthanc orthanc-dicomweb     # a real PACS for vlsm-pacs-bridge's round-trip test (tests/pacs_orthanc_test.py)
  clang-14 libclang-rt-14-dev  # libFuzzer targets (deploy/fuzz.sh)
  python3-torch python3-numpy  # vlsm-convert-ckpt reads Lightning checkpoints with torch
)

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# SentencePiece rebuilt from Debian's source against the system protobuf
# (Debian's binary bundles protobuf 3.14 and crashes next to LibTorch/gRPC).
$SUDO bash "$(dirname "${BASH_SOURCE[0]}")/build-sentencepiece.sh"
