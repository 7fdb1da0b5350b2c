#!/usr/bin/env bash
# The main job (until the server lands): install, build, then segment the
# example images with the bundled reference model (tests/data/clipseg-tiny,
# random weights: the masks show the pipeline, not a trained model) and check
# the engine against the reference logits for every adapter variant.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
out=${VLSM_DEMO_OUT:-out/demo}
data=tests/data/clipseg-tiny
mkdir -p "$out/model"
# An HF directory: the tiny weights + the CLIP tokenizer files.
cp "$data"/{config.json,model.safetensors,preprocessor_config.json} "$out/model/"
cp tests/data/clip-tokenizer/{vocab.json,merges.txt,tokenizer_config.json,special_tokens_map.json} "$out/model/"

build/bin/vlsm-convert-ckpt "$data/adapters/shallow_vlc.ckpt" "$out/polyp.safetensors" \
  --task polyp --prompt "a round polyp in the colon" >/dev/null
build/bin/vlsm-infer segment --model "$out/model" --adapter "$out/polyp.safetensors" \
  --prompt "a round polyp in the colon" --prompt "skin lesion" --out "$out/masks" "$data/images"

for variant in base shallow_v shallow_vl shallow_vlc dense_v dense_vl dense_vlc converted; do
  adapter=()
  case $variant in
    base) ;;
    converted) adapter=(--adapter "$out/polyp.safetensors") ;;
    *) adapter=(--adapter "$data/adapters/$variant.safetensors") ;;
  esac
  build/bin/vlsm-infer tensors --model "$data" "${adapter[@]}" --cases "$data/cases.safetensors" \
    --out "$out/logits_$variant.safetensors"
done
/usr/bin/python3 deploy/compare_logits.py "$data/cases.safetensors" "$out"
echo "masks and overlays: $out/masks/   logits: $out/"
