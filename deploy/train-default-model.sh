#!/usr/bin/env bash
# Rebuilds the embedded default model (model/default) from nothing:
#   1. the synthetic shapes, polyp and ultrasound sets (vlsm-datagen, fixed seeds);
#   2. a small CLIPSeg trained from scratch on shapes, with a SentencePiece
#      tokenizer trained on the shapes prompts (vlsm-train --mode scratch), then
#      trained on with a fresh optimizer at a lower rate (--mode full);
#   3. demo adapters for polyp and ultrasound on that base (--mode adapter).
# Writes model/default/{config.json,model.safetensors,spiece.model,
# preprocessor_config.json} and model/default/adapters/{polyp,ultrasound}.safetensors,
# nothing else in the tree; datasets and metrics go to $WORK (default: a temp dir).
#
#   deploy/train-default-model.sh [BUILD_DIR]     (BUILD_DIR default: build)
# Env: THREADS (default 2), WORK, OUT (default model/default), BASE_SECONDS (1500), REFINE_SECONDS (840) and
# ADAPTER_SECONDS (240): training time limits (the step counts they reach depend on the
# machine; metrics.json records them, and --max_steps reproduces a run exactly).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
bin="$build/bin"
threads="${THREADS:-2}"
work="${WORK:-$(mktemp -d /tmp/vlsm-default-model.XXXXXX)}"
out="${OUT:-$here/model/default}"
mkdir -p "$work"
for tool in vlsm-datagen vlsm-train; do
  [[ -x "$bin/$tool" ]] || { echo "missing $bin/$tool: build it first" >&2; exit 1; }
done

echo "== datasets in $work"
"$bin/vlsm-datagen" --kind shapes --out "$work/shapes" --seed 1 --train 1200 --val 100 --test 100 --size 128
"$bin/vlsm-datagen" --kind polyp --out "$work/polyp" --seed 2 --train 200 --val 50 --test 50 --size 128
"$bin/vlsm-datagen" --kind ultrasound --out "$work/ultrasound" --seed 3 --train 200 --val 50 --test 50 --size 128

echo "== base model, stage 1: from scratch (tokenizer + weights)"
cp "$here/deploy/default-model-config.json" "$work/arch.json"
rm -rf "$work/stage1" "$out.tmp"
"$bin/vlsm-train" --mode scratch --data "$work/shapes" --config "$work/arch.json" \
  --out "$work/stage1" --metrics_out "$work/base_stage1.metrics.json" --seed 1 \
  --threads "$threads" --epochs 100 --time_limit_s "${BASE_SECONDS:-1500}" --batch_size 16 \
  --lr 1e-3 --vocab_size 256 --plateau_patience 3 --early_stop_patience 6

echo "== base model, stage 2: every weight trained on (fresh optimizer, lower lr) -> $out"
"$bin/vlsm-train" --mode full --data "$work/shapes" --model "$work/stage1" \
  --out "$out.tmp" --metrics_out "$work/base.metrics.json" --seed 2 --threads "$threads" \
  --epochs 100 --time_limit_s "${REFINE_SECONDS:-840}" --batch_size 16 --lr 5e-4 \
  --plateau_patience 3 --early_stop_patience 6

echo "== zero-shot base on the clinic-like sets"
for task in polyp ultrasound; do
  "$bin/vlsm-train" --mode eval --data "$work/$task" --model "$out.tmp" \
    --metrics_out "$work/zeroshot_$task.metrics.json" --threads "$threads"
done

echo "== demo adapters"
mkdir -p "$out.tmp/adapters"
for task in polyp ultrasound; do
  "$bin/vlsm-train" --mode adapter --data "$work/$task" --model "$out.tmp" \
    --variant shallow_vlc --adapter_dim 64 --task "$task" --seed 1 --threads "$threads" \
    --epochs 60 --time_limit_s "${ADAPTER_SECONDS:-240}" --batch_size 16 --lr 1e-3 \
    --out "$out.tmp/adapters/$task.safetensors" --metrics_out "$work/$task.metrics.json"
done

rm -rf "$out.old" && { [[ -d "$out" ]] && mv "$out" "$out.old" || true; }
mv "$out.tmp" "$out"
# Keep a hand-written README the tree already has.
[[ -f "$out.old/README.md" ]] && cp "$out.old/README.md" "$out/README.md"
rm -rf "$out.old"
echo "== metrics in $work:"
for f in base_stage1 base zeroshot_polyp zeroshot_ultrasound polyp ultrasound; do
  echo "$f: $(cat "$work/$f.metrics.json" | tr -d '\n ' )"
done
