#!/usr/bin/env bash
# Nothing lost: SIGKILL at a bad moment never leaves a half-written file under a
# final name, and the same command afterwards completes.
#  (a) ppconvert on a generated 256 MiB ONNX model, killed once its temporary
#      GRAPH.bin.tmp.* exists: no GRAPH.bin; the rerun writes one `ppengine info`
#      accepts.
#  (b) ppengine run --output DIR killed while computing (DIR holds no .npy) and
#      while writing 4 outputs of 128 MiB (every .npy under its final name is
#      complete and equals the rerun's); the rerun writes all four.
#  (c) examples/ppbatch killed with SIGKILL three times: no OUTPUT.npy each time;
#      the rerun resumes and its output equals one `ppengine run`, byte for byte.
# The model is written by /usr/bin/python3 with the `onnx` package; without it the
# test exits 77 (skipped). Every step runs under `timeout`; about 30 s on 2 cores.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
ex=${PP_EXAMPLES_DIR:-${PP_BINARY_DIR:-$(dirname "$PPENGINE")}/examples}
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
command -v timeout > /dev/null || { echo "SKIPPED: no timeout(1)"; exit 77; }
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import onnx, numpy' > /dev/null 2>&1; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIPPED: no python3 with the onnx and numpy packages"; exit 77; }

tmp=$(mktemp -d /tmp/pp_cli_kill.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# wait_for PID GLOB: poll (every 5 ms, at most 30 s) until a file matches GLOB;
# 0 when one did while PID was still running.
wait_for() {
  local p=$1 glob=$2 i
  for ((i = 0; i < 6000; i++)); do
    compgen -G "$glob" > /dev/null && return 0
    kill -0 "$p" 2> /dev/null || return 1
    sleep 0.005
  done
  return 1
}
# kill9 PID: SIGKILL and reap; fails unless it died of the signal.
kill9() {
  local rc
  kill -KILL "$1" 2> /dev/null || true
  set +e
  wait "$1" 2> /dev/null # no "Killed" job notice
  rc=$?
  set -e
  pid=
  [ "$rc" -eq 137 ] || fail "expected death by SIGKILL (137), got exit $rc"
}

"$PY" - "$tmp" << 'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
d = sys.argv[1]
def save(g, path):
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, path)
# big: 4 MatMuls of (4096, 4096) f32, 256 MiB of initializers; small values so
# that a run stays finite.
D = 4096
w = ((np.arange(D * D, dtype=np.int32) % 7 - 3).astype(np.float32) * np.float32(1e-3)).reshape(D, D)
inits = [numpy_helper.from_array(w, "w%d" % i) for i in range(4)]
nodes, prev = [], "x"
for i in range(4):
    y = "y" if i == 3 else "h%d" % i
    nodes.append(helper.make_node("MatMul", [prev, "w%d" % i], [y], name="mm%d" % i))
    prev = y
save(helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", D])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", D])], inits), d + "/big.onnx")
# wide: x (N, 256) tiled to (N, 2^24), four outputs of 64 MiB per item
R = 65536
reps = numpy_helper.from_array(np.array([1, R], dtype=np.int64), "reps")
nodes = [helper.make_node("Tile", ["x", "reps"], ["t"], name="tile")]
outs = []
for i in range(4):
    nodes.append(helper.make_node("Relu" if i % 2 else "Neg", ["t"], ["o%d" % i], name="op%d" % i))
    outs.append(helper.make_tensor_value_info("o%d" % i, TensorProto.FLOAT, ["N", 256 * R]))
save(helper.make_graph(nodes, "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 256])], outs,
                       [reps]), d + "/wide.onnx")
EOF

# ---- (a) ppconvert ------------------------------------------------------------------
out=$tmp/big.bin
"$PPCONVERT" "$tmp/big.onnx" -o "$out" > /dev/null 2> "$tmp/conv1.err" &
pid=$!
wait_for "$pid" "$out.tmp.*" || { cat "$tmp/conv1.err"; fail "ppconvert finished before its temporary was seen"; }
kill9 "$pid"
[ ! -e "$out" ] || fail "a killed ppconvert left $out"
echo "ok: ppconvert killed mid-write, no $(basename "$out")"
rm -f "$out".tmp.* # a SIGKILL cannot clean up; the temporary is the one thing left
timeout 60 "$PPCONVERT" "$tmp/big.onnx" -o "$out" > /dev/null || fail "ppconvert rerun failed"
compgen -G "$out.tmp.*" > /dev/null && fail "the completed ppconvert left a temporary"
timeout 30 "$PPENGINE" info "$out" > "$tmp/info.txt" || fail "ppengine info refuses the rerun's graph"
grep -q 'MATMUL' "$tmp/info.txt" || fail "ppengine info does not list the MatMuls: $(cat "$tmp/info.txt")"
echo "ok: the rerun wrote a graph ppengine info accepts"

# ---- (b) ppengine run --output ------------------------------------------------------
# Killed while computing: DIR is created only after the run, so nothing may be
# there. Batch 8192 through four 4096² layers is over half a TFLOP, many seconds
# on any CPU this runs on, so the kill after 1 s lands mid-computation.
"$PPENGINE" run "$out" --batch 8192 --devices cpu --output "$tmp/run1" --quiet 2> "$tmp/run1.err" &
pid=$!
sleep 1
kill -0 "$pid" 2> /dev/null || { cat "$tmp/run1.err"; fail "ppengine run on the big graph ended within 1 s"; }
kill9 "$pid"
if compgen -G "$tmp/run1/*.npy" > /dev/null; then fail "a run killed while computing left $(ls "$tmp/run1")"; fi
echo "ok: ppengine run killed while computing, no .npy"

timeout 30 "$PPCONVERT" "$tmp/wide.onnx" -o "$tmp/wide.bin" > /dev/null || fail "ppconvert wide.onnx"
item=$((256 * 65536 * 4))  # bytes per output item
size=$((2 * item + 128))  # batch 2, and NumPy's 128-byte header for this shape
"$PPENGINE" run "$tmp/wide.bin" --batch 2 --devices cpu --output "$tmp/run2" --quiet 2> "$tmp/run2.err" &
pid=$!
wait_for "$pid" "$tmp/run2/*.npy.tmp.*" || { cat "$tmp/run2.err"; fail "ppengine run finished before a temporary was seen"; }
kill9 "$pid"
complete=0
for f in "$tmp"/run2/*.npy; do
  [ -e "$f" ] || continue
  s=$(stat -c %s "$f")
  [ "$s" -eq "$size" ] || fail "a killed run left $(basename "$f") with $s bytes, want $size"
  complete=$((complete + 1))
done
[ "$complete" -lt 4 ] || fail "the kill came after all 4 outputs were written"
echo "ok: ppengine run killed while writing: $complete complete outputs, no partial .npy under a final name"
timeout 60 "$PPENGINE" run "$tmp/wide.bin" --batch 2 --devices cpu --output "$tmp/run3" --quiet ||
  fail "ppengine run rerun failed"
for i in 0 1 2 3; do
  [ "$(stat -c %s "$tmp/run3/o$i.npy")" -eq "$size" ] || fail "the rerun's o$i.npy has the wrong size"
  if [ -e "$tmp/run2/o$i.npy" ]; then cmp -s "$tmp/run2/o$i.npy" "$tmp/run3/o$i.npy" || fail "o$i.npy differs"; fi
done
rm -rf "$tmp/run2" "$tmp/run3"
echo "ok: the rerun wrote all 4 outputs"

# ---- (c) ppbatch ----------------------------------------------------------------------
if [ ! -x "$ex/ppbatch" ]; then
  echo "ppbatch not built ($ex/ppbatch): part (c) skipped"
  echo "cli_kill: all checks passed"
  exit 0
fi
digits=$PP_SOURCE_DIR/examples/digits
graph=$tmp/digits.bin
timeout 60 "$PPCONVERT" "$digits/digits.onnx" -o "$graph" > /dev/null
timeout 60 "$PPENGINE" run "$graph" --input "$digits/test_x.npy" --output "$tmp/ref" --devices cpu --quiet
outp=$tmp/pred.npy
last=0
# Three kills: after the first durable chunk, then after further progress, then
# at an arbitrary instant (0.3 s after the start, wherever that falls).
for k in 1 2 3; do
  "$ex/ppbatch" "$graph" "$digits/test_x.npy" "$outp" --chunk 7 --devices cpu --throttle-ms 20 \
    2> "$tmp/batch$k.err" &
  pid=$!
  if [ $k -lt 3 ]; then
    for _ in $(seq 3000); do # up to 30 s
      d=$(sed -n 's/^done //p' "$outp.progress" 2> /dev/null || true)
      [ -n "$d" ] && [ "$d" -gt "$last" ] && break
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.01
    done
  else
    sleep 0.3
  fi
  kill -0 "$pid" 2> /dev/null || { cat "$tmp/batch$k.err"; fail "ppbatch ended before kill $k"; }
  kill9 "$pid"
  [ ! -e "$outp" ] || fail "ppbatch killed ($k) left $outp"
  [ -f "$outp.partial" ] || fail "no $outp.partial after kill $k"
  d=$(sed -n 's/^done //p' "$outp.progress" 2> /dev/null || echo 0)
  [ "$d" -ge "$last" ] && [ "$d" -lt 540 ] || fail "progress went from $last to $d items after kill $k"
  if [ $k -gt 1 ] && [ "$last" -gt 0 ]; then
    grep -q "resuming at item $last of 540" "$tmp/batch$k.err" || { cat "$tmp/batch$k.err"; fail "run $k did not resume at $last"; }
  fi
  last=$d
done
echo "ok: ppbatch killed 3 times (last at item $last of 540), never a $(basename "$outp")"
timeout 60 "$ex/ppbatch" "$graph" "$digits/test_x.npy" "$outp" --chunk 7 --devices cpu 2> "$tmp/batch4.err" ||
  { cat "$tmp/batch4.err"; fail "ppbatch rerun failed"; }
if [ "$last" -gt 0 ]; then
  grep -q "resuming at item $last of 540" "$tmp/batch4.err" || { cat "$tmp/batch4.err"; fail "the rerun did not resume"; }
fi
[ ! -e "$outp.partial" ] && [ ! -e "$outp.progress" ] || fail "ppbatch left its .partial or .progress behind"
cmp "$outp" "$tmp/ref/logits.npy" || fail "the resumed ppbatch output differs from ppengine run"
echo "ok: the resumed ppbatch output equals ppengine run byte for byte"
echo "cli_kill: all checks passed"
