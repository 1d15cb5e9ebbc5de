#!/usr/bin/env bash
# Nothing lost: SIGKILL at a bad moment never leaves a half-written file under a
# final name, and the same command afterwards completes.
#  (a) ppconvert killed in the middle of writing GRAPH.bin's temporary, and again
#      between its fsync and its rename: no GRAPH.bin; the rerun writes one
#      `ppengine info` accepts.
#  (b) ppengine run --output DIR killed before its first output file, and again
#      between the 2nd and the 3rd of 4 outputs: the first two complete (equal to
#      the rerun's), no other .npy; the rerun writes all four.
#  (c) examples/ppbatch killed three times at known points of its chunk loop:
#      never an OUTPUT.npy, each rerun resumes exactly where the last durable
#      progress says, and the final output equals one `ppengine run`, byte for byte.
# The kills land at a chosen call (tests/shim/killpoint.c: the n-th rename, fsync,
# fdatasync, fwrite or mkostemp of the process), not after a delay, so every run
# checks the same moments whatever the machine's load. The 4-output model is
# written by /usr/bin/python3 with the `onnx` package; without it part (b) is
# skipped.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}" "${PP_KILLPOINT_LIB:?}"
ex=${PP_EXAMPLES_DIR:-${PP_BINARY_DIR:-$(dirname "$PPENGINE")}/examples}
for b in "$PPCONVERT" "$PPENGINE" "$PP_KILLPOINT_LIB"; do
  [ -e "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
tmp=$(mktemp -d /tmp/pp_cli_kill.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# killed_at POINT CMD...: runs CMD with the kill point armed; fails unless CMD died
# of SIGKILL there (exit 137).
killed_at() {
  local point=$1 rc
  shift
  set +e
  LD_PRELOAD=$PP_KILLPOINT_LIB PP_KILLPOINT=$point ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
    "$@" > "$tmp/killed.out" 2> "$tmp/killed.err"
  rc=$?
  set -e
  [ "$rc" -eq 137 ] || { cat "$tmp/killed.err"; fail "$(basename "$1") with PP_KILLPOINT=$point: exit $rc, want 137 (SIGKILL)"; }
}
temporaries() { compgen -G "$1.tmp.*" | wc -l; }

# ---- (a) ppconvert ------------------------------------------------------------------
digits=$PP_SOURCE_DIR/examples/digits
graph=$tmp/digits.bin
for point in fwrite:2 fsync:1 rename:1; do
  killed_at "$point" "$PPCONVERT" "$digits/digits.onnx" -o "$graph"
  [ ! -e "$graph" ] || fail "ppconvert killed at $point left $graph"
  [ "$(temporaries "$graph")" -eq 1 ] || fail "ppconvert killed at $point: want exactly its temporary beside $graph"
  rm -f "$graph".tmp.* # a SIGKILL cannot clean up; the temporary is the one thing left
done
echo "ok: ppconvert killed mid-write, before its fsync and before its rename: never a $(basename "$graph")"
"$PPCONVERT" "$digits/digits.onnx" -o "$graph" > /dev/null || fail "ppconvert rerun failed"
[ "$(temporaries "$graph")" -eq 0 ] || fail "the completed ppconvert left a temporary"
"$PPENGINE" info "$graph" > "$tmp/info.txt" || fail "ppengine info refuses the rerun's graph"
grep -q 'CONV' "$tmp/info.txt" || fail "ppengine info does not list the convolutions: $(cat "$tmp/info.txt")"
echo "ok: the rerun wrote a graph ppengine info accepts"

# ---- (b) ppengine run --output ------------------------------------------------------
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import onnx, numpy' > /dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "no python3 with the onnx and numpy packages: part (b) skipped"
else
  # wide: x (N, 256) tiled to (N, 1024), then four outputs o0..o3
  "$PY" - "$tmp/wide.onnx" << 'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
reps = numpy_helper.from_array(np.array([1, 4], dtype=np.int64), "reps")
nodes = [helper.make_node("Tile", ["x", "reps"], ["t"], name="tile")]
outs = []
for i in range(4):
    nodes.append(helper.make_node("Relu" if i % 2 else "Neg", ["t"], ["o%d" % i], name="op%d" % i))
    outs.append(helper.make_tensor_value_info("o%d" % i, TensorProto.FLOAT, ["N", 1024]))
g = helper.make_graph(nodes, "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 256])], outs, [reps])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.save(m, sys.argv[1])
EOF
  "$PPCONVERT" "$tmp/wide.onnx" -o "$tmp/wide.bin" > /dev/null || fail "ppconvert wide.onnx"
  run=("$PPENGINE" run "$tmp/wide.bin" --batch 2 --seed 5 --devices cpu --quiet --output)
  killed_at mkostemp:1 "${run[@]}" "$tmp/run1"
  if compgen -G "$tmp/run1/*" > /dev/null; then fail "a run killed before its first output left $(ls "$tmp/run1")"; fi
  echo "ok: ppengine run killed before its first output file: no .npy"
  killed_at rename:3 "${run[@]}" "$tmp/run2"
  "${run[@]}" "$tmp/run3" || fail "ppengine run rerun failed"
  for i in 0 1 2 3; do
    [ -e "$tmp/run3/o$i.npy" ] || fail "the rerun did not write o$i.npy"
    if [ "$i" -lt 2 ]; then
      cmp -s "$tmp/run2/o$i.npy" "$tmp/run3/o$i.npy" || fail "o$i.npy, written before the kill, differs from the rerun's"
    else
      [ ! -e "$tmp/run2/o$i.npy" ] || fail "the run killed before its 3rd rename left o$i.npy"
    fi
  done
  echo "ok: ppengine run killed before its 3rd rename: o0 and o1 complete, no o2 or o3; the rerun wrote all 4"
fi

# ---- (c) ppbatch ----------------------------------------------------------------------
if [ ! -x "$ex/ppbatch" ]; then
  echo "ppbatch not built ($ex/ppbatch): part (c) skipped"
  echo "cli_kill: all checks passed"
  exit 0
fi
"$PPENGINE" run "$graph" --input "$digits/test_x.npy" --output "$tmp/ref" --devices cpu --quiet
outp=$tmp/pred.npy
batch=("$ex/ppbatch" "$graph" "$digits/test_x.npy" "$outp" --chunk 7 --devices cpu)
progress() { sed -n 's/^done //p' "$outp.progress"; }
# A fresh run renames its progress file once at the start and once per chunk, so
# a kill before rename 3 leaves chunk 1 claimed (7 items). A resumed run renames
# once per chunk: a kill before its rename 4 leaves 3 more chunks claimed (28),
# and one at its 2nd fdatasync, with a chunk written but not yet synced, leaves 1
# more (35).
last=0
for k in 1 2 3; do
  case $k in
  1) point=rename:3 want=7 ;;
  2) point=rename:4 want=28 ;;
  3) point=fdatasync:2 want=35 ;;
  esac
  killed_at "$point" "${batch[@]}"
  [ ! -e "$outp" ] || fail "ppbatch killed ($k) left $outp"
  [ -f "$outp.partial" ] || fail "no $outp.partial after kill $k"
  [ "$(progress)" = "$want" ] || fail "ppbatch killed at $point: progress says $(progress) items, want $want"
  if [ "$last" -gt 0 ]; then
    grep -q "resuming at item $last of 540" "$tmp/killed.err" || { cat "$tmp/killed.err"; fail "run $k did not resume at $last"; }
  fi
  last=$want
done
echo "ok: ppbatch killed 3 times (at items 7, 28 and 35 of 540), never a $(basename "$outp")"
"${batch[@]}" 2> "$tmp/batch4.err" || { cat "$tmp/batch4.err"; fail "ppbatch rerun failed"; }
grep -q "resuming at item $last of 540" "$tmp/batch4.err" || { cat "$tmp/batch4.err"; fail "the rerun did not resume"; }
[ ! -e "$outp.partial" ] && [ ! -e "$outp.progress" ] || fail "ppbatch left its .partial or .progress behind"
cmp "$outp" "$tmp/ref/logits.npy" || fail "the resumed ppbatch output differs from ppengine run"
echo "ok: the resumed ppbatch output equals ppengine run byte for byte"
echo "cli_kill: all checks passed"
