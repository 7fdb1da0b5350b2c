#!/usr/bin/env bash
# The test command: installs dependencies, builds, runs every test (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
# libFuzzer smoke of every parser first, so ctest's summary closes the log.
bash deploy/fuzz.sh "${VLSM_FUZZ_SECONDS:-20}"
source deploy/openblas-env.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
