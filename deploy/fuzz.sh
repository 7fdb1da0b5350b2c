#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for
# SECONDS (default 20) on a corpus seeded from the test data. Exits non-zero
# on the first crash; the reproducer is left in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
PYDICOM_FILES=/usr/lib/python3/dist-packages/pydicom/data/test_files
cmake -S . -B build-fuzz -G Ninja -DVLSM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
for fuzzer in build-fuzz/bin/fuzz_*; do
  name=$(basename "$fuzzer")
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  if [[ -d tests/fuzz/corpus/$name ]]; then cp -n tests/fuzz/corpus/$name/* "$corpus"/ 2>/dev/null || true; fi
  if [[ $name == fuzz_dicom && -d $PYDICOM_FILES ]]; then
    # Seeds covering each codec: small files from Debian's python3-pydicom.
    for f in CT_small MR_small_RLE MR_small_jpeg_ls_lossless JPEG2000 JPEG-lossy SC_rgb_small_odd \
             image_dfl ExplVR_BigEnd; do
      cp -n "$PYDICOM_FILES/$f.dcm" "$corpus"/ 2>/dev/null || true
    done
  fi
  log=build-fuzz/$name.log
  if "$fuzzer" "$corpus" -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $name: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') runs in ${seconds}s, corpus $(ls "$corpus" | wc -l)"
  else
    echo "fuzz $name: FAILED (see $log)"; tail -30 "$log"; exit 1
  fi
done
