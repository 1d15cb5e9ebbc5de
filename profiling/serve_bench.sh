#!/usr/bin/env bash
# serve_bench: ppserve's dynamic batching on the CPU backend, against the
# engine's offline throughput. A ResNet-18 (torchvision's architecture, random
# weights: speed does not depend on them; SIZE x SIZE inputs, default 224) is
# exported to ONNX by PyTorch into WORKDIR once and converted; then, each for SECONDS:
#   offline   ppengine bench at batch MAX_BATCH (and at 1)
#   batched   ppserve --max-batch MAX_BATCH --max-delay-us DELAY, ppload with
#             32 connections of batch-1 binary requests
#   unbatched ppserve --max-batch 1, the same load
# and prints one table: throughput, its share of offline, latency p50/p99 and
# the bound p99 should meet, DELAY + 2 x the compute time of one max batch
# (its median in the offline run). Prints figures; asserts nothing.
#   profiling/serve_bench.sh [SECONDS] [WORKDIR]      (PP_BUILD: the build folder, default build)
set -euo pipefail
secs=${1:-30}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${PP_BUILD:-$here/../build}" && pwd)
work=${2:-$build/serve-bench}
max_batch=${MAX_BATCH:-32}
size=${SIZE:-224} # input height and width
delay=${DELAY:-2000}
conc=${CONCURRENCY:-32}
mkdir -p "$work"
cd "$work"

model=resnet18_$size
if [ ! -s $model.onnx ]; then
  SIZE=$size MODEL=$model /usr/bin/python3 - << 'EOF'
import os, torch, torchvision
m = torchvision.models.resnet18().eval()
s = int(os.environ["SIZE"])
torch.onnx.export(m, torch.randn(1, 3, s, s), os.environ["MODEL"] + ".onnx.tmp", input_names=["input"],
                  output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                  opset_version=13)
EOF
  mv $model.onnx.tmp $model.onnx
fi
[ -s $model.bin ] || "$build/ppconvert" $model.onnx -o $model.bin > /dev/null

# offline BATCH: "items/s median_ms"
offline() {
  "$build/ppengine" bench $model.bin --devices cpu --batch "$1" --duration "$secs" > "bench$1.txt" 2>&1
  awk '/^throughput:/ {t = $2} /^latency ms:/ {for (i = 1; i < NF; i++) if ($i == "median") m = $(i + 1)} END {print t, m}' "bench$1.txt"
}

# served MAX_BATCH: "rows/s p50 p99", from ppload against a fresh ppserve
served() {
  "$build/ppserve" --model resnet=$model.bin --port 0 --devices cpu --max-batch "$1" --max-delay-us "$delay" \
    --max-queue 4096 > serve.out 2> serve.err &
  local pid=$! port=
  for _ in $(seq 1200); do
    port=$(sed -n 's/^ppserve: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' serve.out)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat serve.err >&2; kill "$pid"; return 1; }
  "$build/ppload" "127.0.0.1:$port" --model resnet --concurrency "$conc" --duration 5 > /dev/null || true # warm-up
  "$build/ppload" "127.0.0.1:$port" --model resnet --concurrency "$conc" --duration "$secs" > "load$1.txt" || true
  kill -TERM "$pid"
  wait "$pid" || true
  awk '/throughput/ {r = $5} /latency ms/ {print r, $5, $9}' "load$1.txt"
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
read -r off_b off_ms <<< "$(offline "$max_batch")"
read -r off_1 off_1ms <<< "$(offline 1)"
read -r bat_t bat_p50 bat_p99 <<< "$(served "$max_batch")"
read -r one_t one_p50 one_p99 <<< "$(served 1)"
bound=$(awk -v d="$delay" -v c="$off_ms" 'BEGIN {printf "%.0f", d / 1000 + 2 * c}')
echo "ResNet-18 (${size}x${size}), CPU backend, $(nproc) cores (load average before: $load), $conc connections of batch-1 binary requests, ${secs} s each"
printf '%-44s %12s %10s %10s %10s\n' "configuration" "images/s" "vs offline" "p50 ms" "p99 ms"
awk -v a="$off_b" -v b="$max_batch" -v m="$off_ms" 'BEGIN {printf "%-44s %12.2f %10s %10s %10s\n", "ppengine bench, batch " b " (offline)", a, "1.00", "", m " (run)"}'
awk -v a="$off_1" -v m="$off_1ms" -v o="$off_b" 'BEGIN {printf "%-44s %12.2f %10.2f %10s %10s\n", "ppengine bench, batch 1 (offline)", a, a / o, "", m " (run)"}'
awk -v a="$bat_t" -v o="$off_b" -v p="$bat_p50" -v q="$bat_p99" -v b="$max_batch" -v d="$delay" \
  'BEGIN {printf "%-44s %12.2f %10.2f %10s %10s\n", "ppserve --max-batch " b " --max-delay-us " d, a, a / o, p, q}'
awk -v a="$one_t" -v o="$off_b" -v p="$one_p50" -v q="$one_p99" \
  'BEGIN {printf "%-44s %12.2f %10.2f %10s %10s\n", "ppserve --max-batch 1 (no batching)", a, a / o, p, q}'
echo "p99 bound for the batched server: max_delay + 2 x one batch-$max_batch run = $bound ms"
