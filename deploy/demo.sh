#!/usr/bin/env bash
# The main job: install, build, start vlsm-server on the embedded default
# model (model/default: a small CLIPSeg trained from scratch on synthetic
# shapes), upload its two demo adapters (polyp, ultrasound) through the admin
# API, segment the example images in examples/ through vlsm-client with
# prompts, and write masks + overlays. Outputs go to $VLSM_DEMO_OUT (out/demo).
#   VLSM_DEMO_SKIP_INSTALL=1 skips the apt step (already installed).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${VLSM_DEMO_SKIP_INSTALL:-0} != 1 ]]; then bash deploy/install-deps.sh; fi
bash deploy/build.sh
out=${VLSM_DEMO_OUT:-out/demo}
bin=build/bin
rm -rf "$out" && mkdir -p "$out"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
metrics_port=$(free_port)
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$out/admin.token"
chmod 600 "$out/admin.token"

source deploy/openblas-env.sh

# No --model: the server loads the embedded default model.
"$bin/vlsm-server" --port "$port" --metrics_port "$metrics_port" --adapter_dir "$out/adapters" \
  --admin_token_file "$out/admin.token" >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
client=("$bin/vlsm-client" --target "127.0.0.1:$port")
for _ in $(seq 1 300); do
  if "${client[@]}" health >/dev/null 2>&1; then break; fi
  kill -0 $server_pid 2>/dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.2
done
"${client[@]}" health

for task in polyp ultrasound; do
  "${client[@]}" upload --token_file "$out/admin.token" --name "$task" --label stable \
    --file "model/default/adapters/$task.safetensors"
done
"${client[@]}" list --token_file "$out/admin.token"

# The base model knows the shapes vocabulary; the adapters their clinic-like sets.
"${client[@]}" segment --overlay --out "$out/shapes" \
  --prompt "the yellow circle" --prompt "green triangle at the top left" --prompt "square" \
  examples/shapes_1.png examples/shapes_2.png
"${client[@]}" segment --task polyp@stable --overlay --out "$out/polyp" \
  --prompt "a small pink polyp" --prompt "polyp" examples/polyp_1.png examples/polyp_2.png
"${client[@]}" segment --task ultrasound@stable --overlay --out "$out/ultrasound" \
  --prompt "the tumour" --prompt "hypoechoic lesion" \
  examples/ultrasound_1.png examples/ultrasound_2.png

curl -fsS "http://127.0.0.1:$metrics_port/metrics" >"$out/metrics.txt" || true
echo
echo "masks and overlays: $out/{shapes,polyp,ultrasound}/  (*_overlay.png: image + mask + prompt)"
echo "server log: $out/server.log   metrics scrape: $out/metrics.txt"
