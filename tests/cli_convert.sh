#!/bin/bash
# ppconvert from the command line: every fixture model converts and, run by
# `ppengine run` on the CPU, reproduces PyTorch's outputs at batch 2 and 3
# (compared with NumPy when it is installed); failures exit 1 with one line on
# stderr and leave no file behind; --const, --dtype, -v and --help behave.
#
# Environment (set by ctest): PPCONVERT, PPENGINE, PP_SOURCE_DIR. Exit 77 (skipped)
# when the tools are not built.
set -u
SRC=${PP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
PPCONVERT=${PPCONVERT:-./ppconvert}
PPENGINE=${PPENGINE:-./ppengine}
if [ ! -x "$PPCONVERT" ]; then
    echo "ppconvert not built ($PPCONVERT): skipped"
    exit 77
fi
have_engine=1
[ -x "$PPENGINE" ] || have_engine=0
PY=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' >/dev/null 2>&1; then PY=$p; break; fi
done

T=$(mktemp -d /tmp/pp_cli_convert.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# compare OUT REF: |out - ref| <= 1e-4 + 1e-3 |ref|
compare() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if a.shape != b.shape:
    print("shape %s, expected %s" % (a.shape, b.shape)); sys.exit(1)
bad = np.abs(a.astype(np.float64) - b) > 1e-4 + 1e-3 * np.abs(b)
if bad.any():
    i = np.argwhere(bad)[0]
    print("%d of %d differ, first at %s: %r vs %r" % (bad.sum(), a.size, tuple(i), a[tuple(i)], b[tuple(i)])); sys.exit(1)
EOF
}

M=$SRC/tests/fixtures/models
for name in mlp resnet resnet_bn mobilenet efficientnet densenet shufflenet vit gpt; do
    out=$("$PPCONVERT" "$M/$name.onnx" -o "$T/$name.bin" 2>&1)
    if [ $? -ne 0 ] || [ ! -s "$T/$name.bin" ]; then
        fail "$name: ppconvert: $out"
        continue
    fi
    case "$out" in *"$name.onnx -> "*"nodes"*"parameters"*"written"*) ;; *) fail "$name: summary line: $out" ;; esac
    [ $have_engine = 1 ] || continue
    for b in "" _b3; do
        rm -rf "$T/out"
        mkdir -p "$T/out"
        if ! run=$("$PPENGINE" run "$T/$name.bin" --input "$M/$name.input$b.npy" --output "$T/out" --devices cpu --quiet 2>&1); then
            fail "$name$b: ppengine run: $run"
            continue
        fi
        if [ ! -s "$T/out/output.npy" ]; then
            fail "$name$b: no output.npy"
            continue
        fi
        if [ -n "$PY" ]; then
            if ! msg=$(compare "$T/out/output.npy" "$M/$name.output$b.npy"); then fail "$name$b: $msg"; fi
        fi
    done
done
[ -n "$PY" ] || echo "numpy not found: outputs were produced but not compared"
[ $have_engine = 1 ] || echo "ppengine not built: converted graphs were not run"

# the example
if ! out=$("$PPCONVERT" "$SRC/examples/digits/digits.onnx" -o "$T/digits.bin" 2>&1); then fail "digits: $out"; fi

# -v lists inputs, outputs and ops
out=$("$PPCONVERT" -v "$M/shufflenet.onnx" -o "$T/s.bin" 2>&1) || fail "-v: $out"
case "$out" in *"input  input"*"(N, 3, 32, 32)"*"output output"*"(N, 10)"*"RESHAPE"*) ;; *) fail "-v listing: $out" ;; esac

# --help and --version succeed
"$PPCONVERT" --help | grep -q "usage: ppconvert" || fail "--help"
"$PPCONVERT" --version | grep -q "ppconvert" || fail "--version"

# failures: exit 1, one line on stderr, no output left behind
expect_fail() { # expect_fail WHAT PATTERN ARGS...
    local what=$1 pat=$2
    shift 2
    local err
    err=$("$PPCONVERT" "$@" -o "$T/never.bin" 2>&1 >/dev/null)
    local rc=$?
    [ $rc -eq 1 ] || fail "$what: exit status $rc, expected 1"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$what: not one line: $err"
    case "$err" in *"$pat"*) ;; *) fail "$what: message '$err' lacks '$pat'" ;; esac
    [ ! -e "$T/never.bin" ] || fail "$what: left $T/never.bin"
    ls "$T" | grep -q "never.bin.tmp" && fail "$what: left a temporary"
}
expect_fail "missing model" "cannot open" "$T/nonexistent.onnx"
expect_fail "not a model" "$M/manifest.txt" "$M/manifest.txt"
head -c 3000 "$M/mlp.onnx" >"$T/cut.onnx"
expect_fail "truncated model" "cut.onnx" "$T/cut.onnx"
expect_fail "bad dtype" "--dtype" "$M/mlp.onnx" --dtype f8
expect_fail "unknown option" "unknown option" "$M/mlp.onnx" --frobnicate
expect_fail "const for no input" "no graph input" "$M/mlp.onnx" --const "nosuch=$M/mlp.input.npy"
expect_fail "const file missing" "--const" "$M/mlp.onnx" --const "input=$T/nonexistent.npy"
out=$("$PPCONVERT" "$M/mlp.onnx" 2>&1)
[ $? -eq 1 ] || fail "no -o: expected exit 1"

# --const turns an input into a constant: the whole mlp folds away
if out=$("$PPCONVERT" "$M/mlp.onnx" -o "$T/const.bin" --const "input=$M/mlp.input.npy" 2>&1); then
    case "$out" in *"-> 0 nodes"*) ;; *) fail "--const did not fold everything: $out" ;; esac
else
    fail "--const: $out"
fi

if [ $fails -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "cli_convert: all checks passed"
