#!/usr/bin/env bash
# bench_convert: ppconvert on generated models with SIZE_MB of weights (default
# 512), side by side: an ONNX export and a torch.save state_dict (when torch is
# there). Reports wall time, MB/s, and peak anonymous memory (RssAnon, sampled),
# which should stay well below the model: weights are read from the mapping and
# streamed into graph.bin. Max RSS would also count the mapped file's page-cache
# pages, which are not the converter's memory. Prints figures; asserts nothing.
#   profiling/bench_convert.sh [SIZE_MB] [WORKDIR]
set -euo pipefail
size_mb=${1:-512}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
ppconvert=${PPCONVERT:-$here/../build/ppconvert}
py=/usr/bin/python3
mkdir -p "$work"

# Runs ppconvert ARGS..., sampling its RssAnon every 20 ms.
measure() {
  local label=$1 model=$2
  shift 2
  sync
  local t0 t1 peak=0 a
  t0=$(date +%s.%N)
  "$ppconvert" "$@" > "$work/convert.log" &
  local pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    a=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2> /dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$peak" ] && peak=$a
    sleep 0.02
  done
  wait "$pid"
  t1=$(date +%s.%N)
  awk -v l="$label" -v b="$(stat -c %s "$model")" -v t0="$t0" -v t1="$t1" -v p="$peak" 'BEGIN {
    s = t1 - t0
    printf "%-12s %6.0f MB in %5.2f s: %5.0f MB/s; peak anonymous memory %5.0f MB (%2.0f%% of the model)\n",
           l, b/1e6, s, b/1e6/s, p/1024, 100*p*1024/b }'
}

if "$py" -c "import onnx, numpy" 2> /dev/null; then
  "$py" - "$size_mb" "$work/big.onnx" <<'PY'
import sys, numpy as np
from onnx import helper, TensorProto, save, numpy_helper
mb, path = int(sys.argv[1]), sys.argv[2]
D = 4096                                   # one 4096x4096 f32 layer is 64 MB
rng = np.random.default_rng(0)
inits, nodes, cur = [], [], "x"
for i in range(max(1, mb // 64)):
    inits.append(numpy_helper.from_array(rng.standard_normal((D, D), dtype=np.float32) * 0.01, name="w%d" % i))
    nodes.append(helper.make_node("MatMul", [cur, "w%d" % i], ["h%d" % i], name="layer%d" % i))
    cur = "h%d" % i
g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", D])],
                      [helper.make_tensor_value_info(cur, TensorProto.FLOAT, ["N", D])], inits)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
PY
  measure "ONNX" "$work/big.onnx" "$work/big.onnx" -o "$work/big.bin"
  rm -f "$work/big.onnx" "$work/big.bin"
else
  echo "ONNX: skipped (needs /usr/bin/python3 with onnx and numpy)"
fi

if "$py" -c "import torch" 2> /dev/null; then
  "$py" - "$size_mb" "$work/big.pt" <<'PY'
import sys, torch
mb, path = int(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
layers = [torch.nn.Linear(4096, 4096) for _ in range(max(1, mb // 64))]
torch.save(torch.nn.Sequential(*layers).state_dict(), path)
PY
  measure "torch.save" "$work/big.pt" "$work/big.pt" -o "$work/big.bin" --arch mlp
  rm -f "$work/big.pt" "$work/big.bin"
else
  echo "torch.save: skipped (needs /usr/bin/python3 with torch)"
fi
