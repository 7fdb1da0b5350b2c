#!/usr/bin/env bash
# The main job: install, build, and run the engine end to end on the
# reference model shipped with the tests (tests/data/clipseg-tiny): the base
# model and every adapter variant, checked against the reference logits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
out=${VLSM_DEMO_OUT:-out/demo}
mkdir -p "$out"
data=tests/data/clipseg-tiny
build/bin/vlsm-convert-ckpt "$data/adapters/shallow_vlc.ckpt" "$out/shallow_vlc_converted.safetensors" \
  --task polyp --prompt "a round polyp in the colon" >/dev/null
for variant in base shallow_v shallow_vl shallow_vlc dense_v dense_vl dense_vlc converted; do
  adapter=()
  case $variant in
    base) ;;
    converted) adapter=(--adapter "$out/shallow_vlc_converted.safetensors") ;;
    *) adapter=(--adapter "$data/adapters/$variant.safetensors") ;;
  esac
  build/bin/vlsm-infer tensors --model "$data" "${adapter[@]}" --cases "$data/cases.safetensors" \
    --out "$out/logits_$variant.safetensors"
done
/usr/bin/python3 deploy/compare_logits.py "$data/cases.safetensors" "$out"
echo "logits written to $out/"
