#!/usr/bin/env bash
# bench_convert: ppconvert on a generated ONNX model with SIZE_MB of weights
# (default 512): wall time, MB/s, and peak memory (max RSS) against the model's
# size, which should stay far below it (weights are read from the mapping and
# streamed into graph.bin). Prints figures; asserts nothing.
#   profiling/bench_convert.sh [SIZE_MB] [WORKDIR]
set -euo pipefail
size_mb=${1:-512}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
ppconvert=${PPCONVERT:-$here/../build/ppconvert}
py=/usr/bin/python3
"$py" -c "import onnx, numpy" 2>/dev/null || { echo "needs /usr/bin/python3 with onnx and numpy (python3-onnx)"; exit 1; }
mkdir -p "$work"
echo "generating a ${size_mb} MB ONNX model in $work ..."
"$py" - "$size_mb" "$work/big.onnx" <<'PY'
import sys, numpy as np
from onnx import helper, TensorProto, save, numpy_helper
mb, path = int(sys.argv[1]), sys.argv[2]
D = 4096                                   # one 4096x4096 f32 layer is 64 MB
layers = max(1, mb // 64)
rng = np.random.default_rng(0)
inits, nodes, cur = [], [], "x"
for i in range(layers):
    w = rng.standard_normal((D, D), dtype=np.float32) * 0.01
    inits.append(numpy_helper.from_array(w, name="w%d" % i))
    nodes.append(helper.make_node("MatMul", [cur, "w%d" % i], ["h%d" % i], name="layer%d" % i))
    cur = "h%d" % i
g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", D])],
                      [helper.make_tensor_value_info(cur, TensorProto.FLOAT, ["N", D])], inits)
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
PY
bytes=$(stat -c %s "$work/big.onnx")
sync
/usr/bin/time -v "$ppconvert" "$work/big.onnx" -o "$work/big.bin" 2> "$work/time.log" | tail -1
secs=$(grep "Elapsed (wall clock)" "$work/time.log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
rss=$(grep "Maximum resident set size" "$work/time.log" | awk '{print $NF}')
awk -v b="$bytes" -v s="$secs" -v r="$rss" 'BEGIN {
  printf "model %.0f MB, converted in %.2f s: %.0f MB/s; peak memory %.0f MB (%.0f%% of the model)\n",
         b/1e6, s, (s > 0 ? b/1e6/s : 0), r/1024, 100*r*1024/b }'
rm -f "$work/big.onnx" "$work/big.bin"
