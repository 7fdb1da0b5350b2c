#!/usr/bin/env bash
# Configures and builds vlsm-serve into build/ (binaries in build/bin/).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVLSM_REQUIRE_SENTENCEPIECE=ON >/dev/null
cmake --build build -j "$jobs"
