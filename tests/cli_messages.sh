#!/usr/bin/env bash
# Every error a command-line tool prints ends its line, and its exit status says
# failure. cli_bad_inputs.sh asserts both for its refusals (ppengine, ppconvert,
# classify, ppbatch, ppserve); this adds the error paths of the remaining tools
# (ppload, ppengine compare, digits_accuracy) and the places a line can be left
# open: a progress bar drawn on a terminal (ppconvert's, ppbatch's) when the
# work then fails. The
# terminal is util-linux script(1)'s pseudo-terminal; the failure is a write
# made to fail at a chosen call (tests/shim/killpoint.c), not a full disk.
set -u
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}" "${PP_KILLPOINT_LIB:?}"
bin=${PP_BINARY_DIR:-$(dirname "$PPENGINE")}
ex=${PP_EXAMPLES_DIR:-$bin/examples}
for b in "$PPCONVERT" "$PPENGINE" "$PP_KILLPOINT_LIB"; do
  [ -e "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
T=$(mktemp -d /tmp/pp_cli_messages.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0 checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ended ID CMD...: CMD fails (exit status not 0) with a non-empty stderr whose
# last byte is a newline.
ended() {
  local id=$1 rc
  shift
  checks=$((checks + 1))
  "$@" > /dev/null 2> stderr.txt
  rc=$?
  [ "$rc" -ne 0 ] || fail "$id: exit status 0"
  [ -s stderr.txt ] || fail "$id: nothing on stderr"
  [ "$(tail -c 1 stderr.txt | wc -l)" -eq 1 ] || fail "$id: stderr does not end with a newline: $(cat stderr.txt)"
}

printf 'not a .npy' > text.npy
"$PPCONVERT" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o digits.bin > /dev/null || { echo "FAIL: ppconvert"; exit 1; }
X=$PP_SOURCE_DIR/examples/digits/test_x.npy
Y=$PP_SOURCE_DIR/examples/digits/test_y.npy
ended compare_usage "$PPENGINE" compare "$X"
ended compare_tol "$PPENGINE" compare "$X" "$X" --tol x
ended compare_missing "$PPENGINE" compare "$X" nosuch.npy
ended compare_not_npy "$PPENGINE" compare "$X" text.npy
ended compare_shapes "$PPENGINE" compare "$X" "$Y"
ended no_command "$PPENGINE"
if [ -x "$bin/digits_accuracy" ]; then
  ended accuracy_usage "$bin/digits_accuracy"
  ended accuracy_missing "$bin/digits_accuracy" nosuch.npy "$X" "$Y"
  ended accuracy_mismatch "$bin/digits_accuracy" "$X" "$X" "$Y"
fi
if [ -x "$bin/ppload" ]; then
  ended ppload_usage "$bin/ppload"
  ended ppload_requests "$bin/ppload" 127.0.0.1:9 --model m --requests x
  ended ppload_unknown "$bin/ppload" 127.0.0.1:9 --model m --requests 1 --bogus 1
  ended ppload_refused "$bin/ppload" 127.0.0.1:9 --model m --requests 1 # the discard port: nothing listens on loopback
fi
echo "ok: $checks error paths of ppengine compare, digits_accuracy and ppload end their line"

# ---- progress bars on a terminal -----------------------------------------------------
if ! command -v script > /dev/null; then
  echo "no script(1): the terminal checks are skipped"
else
  # on_tty POINT CMD...: CMD on a pseudo-terminal with POINT armed; its
  # transcript (the terminal's \r\n line ends made \n) in tty.txt.
  on_tty() {
    local point=$1
    shift
    # the shim goes to the tool only, not to script(1) itself
    script -qec "$(printf '%q ' env LD_PRELOAD="$PP_KILLPOINT_LIB" PP_KILLPOINT="$point" \
      ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" "$@")" /dev/null < /dev/null | tr -d '\r' > tty.txt
    return "${PIPESTATUS[0]}"
  }
  # own_line ID PATTERN: the line holding PATTERN starts with it (no progress bar before it).
  own_line() {
    checks=$((checks + 1))
    local line
    line=$(grep -F -- "$2" tty.txt | head -1)
    [ -n "$line" ] || { fail "$1: no '$2' in: $(cat tty.txt)"; return; }
    case "$line" in "$2"*) ;; *) fail "$1: the message runs on after the progress bar: $line" ;; esac
  }
  if [ -x "$ex/ppbatch" ]; then
    # The 3rd chunk's fdatasync fails, after the bar has been drawn.
    on_tty fdatasync:3:EIO "$ex/ppbatch" digits.bin "$X" pred.npy --chunk 7 --devices cpu
    rc=$?
    [ "$rc" -eq 1 ] || fail "ppbatch with a failing fdatasync: exit $rc, want 1: $(cat tty.txt)"
    grep -q 'items/s' tty.txt || fail "ppbatch drew no progress bar on the terminal: $(cat tty.txt)"
    own_line ppbatch_progress "ppbatch: pred.npy.partial: Input/output error"
  fi
  PY=
  for p in /usr/bin/python3 python3; do
    if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import onnx, numpy' > /dev/null 2>&1; then PY=$p; break; fi
  done
  if [ -n "$PY" ]; then
    # ppconvert draws its bar for outputs of 64 MiB and more: one 4096 x 4096 f32 weight.
    "$PY" - << 'EOF'
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
w = numpy_helper.from_array(np.zeros((4096, 4096), dtype=np.float32), "w")
vi = helper.make_tensor_value_info
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "big",
                      [vi("x", TensorProto.FLOAT, ["N", 4096])], [vi("y", TensorProto.FLOAT, ["N", 4096])], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.save(m, "big.onnx")
EOF
    # The header is written (the bar shows 0%), then the weight's write fails.
    on_tty fwrite:2:ENOSPC "$PPCONVERT" big.onnx -o big.bin
    rc=$?
    [ "$rc" -eq 1 ] || fail "ppconvert with a failing write: exit $rc, want 1: $(cat tty.txt)"
    grep -q '^writing \[' tty.txt || fail "ppconvert drew no progress bar on the terminal: $(cat tty.txt)"
    own_line ppconvert_progress "ppconvert: big.bin: writing"
    [ ! -e big.bin ] || fail "a failed ppconvert left big.bin"
  else
    echo "no python3 with onnx and numpy: the ppconvert terminal check is skipped"
  fi
fi
echo "cli_messages: $checks checks, $fails failed"
[ "$fails" -eq 0 ] || exit 1
echo "cli_messages: all checks passed"
