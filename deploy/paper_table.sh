#!/usr/bin/env bash
# VLSM-Adapter's results table in miniature: on two clinic-like sets the
# shapes-trained base model has never seen (polyp, ultrasound), test Dice and
# IoU of the zero-shot base, shallow V/VL/VLC and dense V/VL/VLC adapters
# (base frozen) and full fine-tuning, with trainable-parameter counts.
#
#   deploy/paper_table.sh            # run (resumable) and print the table
#   deploy/paper_table.sh --dry-run  # print the commands it would run
#
# Every run writes out/paper/<set>/<config>/metrics.json; configs whose
# metrics.json exists are skipped, so an interrupted run resumes where it
# stopped. deploy/paper_table.py turns the metrics into a Markdown table
# (also written to out/paper/table.md). Needs a build (deploy/build.sh) with
# vlsm-datagen and vlsm-train, and the default model in model/default.
# Sizes and budgets below are environment variables (VLSM_PAPER_*); the
# defaults take about 15 minutes on 2 CPU cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${VLSM_BIN:-$ROOT/build/bin}
MODEL=${VLSM_PAPER_MODEL:-$ROOT/model/default}
OUT=${VLSM_PAPER_OUT:-$ROOT/out/paper}
TRAIN=${VLSM_PAPER_TRAIN:-200}      # entries per split
VAL=${VLSM_PAPER_VAL:-50}
TEST=${VLSM_PAPER_TEST:-100}
SIZE=${VLSM_PAPER_SIZE:-128}        # generated image side (the model resizes to its own)
EPOCHS=${VLSM_PAPER_EPOCHS:-15}     # at most; early stopping on val Dice may end sooner
BATCH=${VLSM_PAPER_BATCH:-8}
ADAPTER_DIM=${VLSM_PAPER_ADAPTER_DIM:-64}
# The paper's 3e-4 for shallow adapters barely moves in a few hundred steps
# (val Dice 0.002 after 4 epochs on the polyp set, 0.50 at 1e-3), so every
# adapter gets 1e-3 here; full fine-tuning keeps vlsm-train's 1e-4.
ADAPTER_LR=${VLSM_PAPER_ADAPTER_LR:-1e-3}
# One thread: results are deterministic per thread count, and this small model
# gains little from a second one (6x slower when the cores are shared).
THREADS=${VLSM_PAPER_THREADS:-1}
SEED=${VLSM_PAPER_SEED:-0}          # training seed
DRY_RUN=0
[[ ${1:-} == --dry-run ]] && DRY_RUN=1

# Dataset seeds: not used by the default model's shapes set or examples/.
declare -A DATA_SEED=([polyp]=1101 [ultrasound]=2202)
SETS=(polyp ultrasound)
ADAPTERS=(shallow_v shallow_vl shallow_vlc dense_v dense_vl dense_vlc)

run() {  # prints the command; runs it unless --dry-run
  echo "+ $*"
  ((DRY_RUN)) || "$@"
}

for tool in vlsm-datagen vlsm-train; do
  if [[ ! -x $BIN/$tool ]] && ((!DRY_RUN)); then
    echo "paper_table: $BIN/$tool is missing (build first: bash deploy/build.sh)" >&2
    exit 1
  fi
done
if [[ ! -f $MODEL/config.json ]] && ((!DRY_RUN)); then
  echo "paper_table: no model in $MODEL" >&2
  exit 1
fi

started=$SECONDS
for set in "${SETS[@]}"; do
  data=$OUT/$set/data
  gen=("$BIN/vlsm-datagen" --kind "$set" --out "$data" --seed "${DATA_SEED[$set]}"
       --train "$TRAIN" --val "$VAL" --test "$TEST" --size "$SIZE")
  # The generator is deterministic: the command identifies the data. A set
  # made with other arguments would make the saved metrics meaningless.
  if [[ -f $data/command.txt ]]; then
    if [[ "$(cat "$data/command.txt")" != "${gen[*]:1}" ]]; then
      echo "paper_table: $data was generated with other arguments:" >&2
      echo "  $(cat "$data/command.txt")" >&2
      echo "remove $OUT/$set to regenerate it" >&2
      exit 1
    fi
  else
    run mkdir -p "$data"
    if ((DRY_RUN)); then echo "+ ${gen[*]}"; else
      "${gen[@]}" > "$data/datagen.json"
      echo "${gen[*]:1}" > "$data/command.txt"
    fi
  fi

  common=(--data "$data" --model "$MODEL" --seed "$SEED" --threads "$THREADS"
          --batch_size "$BATCH" --task "$set")
  for config in zero_shot "${ADAPTERS[@]}" full; do
    dir=$OUT/$set/$config
    case $config in
      zero_shot) args=(--mode eval) ;;
      full) args=(--mode full --epochs "$EPOCHS" --out "$dir/model") ;;
      *) args=(--mode adapter --variant "$config" --adapter_dim "$ADAPTER_DIM" --lr "$ADAPTER_LR"
               --epochs "$EPOCHS" --out "$dir/$set-$config.safetensors") ;;
    esac
    if [[ -f $dir/metrics.json ]]; then
      echo "= $set/$config: done ($dir/metrics.json)"
      if [[ "$(cat "$dir/command.txt" 2>/dev/null)" != "${args[*]} ${common[*]}" ]]; then
        echo "  warning: made with other settings ($dir/command.txt); remove $dir to rerun" >&2
      fi
      continue
    fi
    echo "== $set/$config ($((SECONDS - started)) s so far)"
    run mkdir -p "$dir"
    if ((DRY_RUN)); then
      echo "+ $BIN/vlsm-train ${args[*]} ${common[*]} --metrics_out $dir/metrics.json"
    else
      echo "${args[*]} ${common[*]}" > "$dir/command.txt"
      "$BIN/vlsm-train" "${args[@]}" "${common[@]}" --metrics_out "$dir/metrics.json" \
          > "$dir/train.log" 2>&1 || {
        echo "paper_table: $set/$config failed; last lines of $dir/train.log:" >&2
        tail -n 20 "$dir/train.log" >&2
        exit 1
      }
      tail -n 2 "$dir/train.log"
    fi
  done
done

((DRY_RUN)) && exit 0
echo "all runs done in $((SECONDS - started)) s"
{
  /usr/bin/python3 "$ROOT/deploy/paper_table.py" "$OUT"
  echo "Settings: batch $BATCH, at most $EPOCHS epochs (early stopping on val Dice), adapter" \
       "dim $ADAPTER_DIM and lr $ADAPTER_LR, full fine-tuning lr 1e-4, seed $SEED, $THREADS threads."
} | tee "$OUT/table.md"
