#!/usr/bin/env bash
# PyTorch 2 exports with symbolic dimensions (tests/fixtures/torch2, written by
# tests/fixtures/gen/gen_torch2.py): tiny ConvNeXt and Swin (dynamic batch) and a
# TransformerEncoder and a Llama-style decoder (dynamic batch and sequence), all
# through torch.onnx.export(dynamo=True) with external data. Each converts once;
# the one graph.bin then runs at every stored point (batch 1, 2, 5; sequence
# 7, 50, 128) and must match PyTorch's outputs. Then the refusals: --dim ranges
# with max < min, inputs outside the ranges at run time (input, axis, value and
# range named), and external data that is missing, short or outside the model's
# folder; each is one line on stderr, exit 1, and no output file.
#
# Environment (set by ctest): PPENGINE, PPCONVERT, PP_SOURCE_DIR.
set -u
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
F=$PP_SOURCE_DIR/tests/fixtures/torch2
T=$(mktemp -d /tmp/pp_cli_symbolic.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# ---- every model at every point, from one graph.bin each -----------------------------
for model in convnext swin bert llama; do
  if ! "$PPCONVERT" "$F/$model.onnx" -o "$model.bin" > convert.log 2>&1; then
    fail "$model: conversion failed: $(tail -1 convert.log)"
    continue
  fi
  points=0
  for x in "$F/$model".*.in.npy; do
    pt=${x%.in.npy}
    pt=${pt##*.}
    ref=$F/$model.$pt.out.npy
    rm -rf out
    if ! "$PPENGINE" run "$model.bin" --input "$x" --output out --devices cpu --quiet 2> run.log; then
      fail "$model $pt: run failed: $(tail -1 run.log)"
      continue
    fi
    "$PPENGINE" compare out/y.npy "$ref" --tol 1e-4 > cmp.log 2>&1 || fail "$model $pt: $(cat cmp.log)"
    points=$((points + 1))
  done
  echo "$model: $points points match PyTorch from one graph.bin"
  [ "$points" -ge 3 ] || fail "$model: only $points points ran"
done

# ONNX carries no ranges: --dim gives them at conversion, and info names them.
"$PPCONVERT" "$F/bert.onnx" -o ranged.bin --dim batch=1..64 --dim seq=1..256 > convert.log 2>&1 ||
  fail "bert with ranges: $(tail -1 convert.log)"
if [ -f ranged.bin ]; then
  "$PPENGINE" info ranged.bin > info.log 2>&1 || fail "info ranged.bin: $(tail -1 info.log)"
  grep -q "x .*(batch, seq)" info.log || fail "info does not show x as (batch, seq): $(grep -A1 inputs info.log)"
  grep -qE "^  seq +1\.\.256" info.log || fail "info does not list seq 1..256"
  grep -qE "^  batch +1\.\.64 +\(the batch\)" info.log || fail "info does not list batch 1..64"
  grep -q "format 2.0" info.log || fail "ranged.bin is not format 2.0"
  # a narrower range at load: the same answers
  rm -rf out
  "$PPENGINE" run ranged.bin --input "$F/bert.b2s50.in.npy" --output out --dim seq=40..64 --devices cpu --quiet ||
    fail "run with --dim seq=40..64"
  "$PPENGINE" compare out/y.npy "$F/bert.b2s50.out.npy" --tol 1e-4 > cmp.log 2>&1 || fail "narrowed: $(cat cmp.log)"
fi

# ---- refusals ---------------------------------------------------------------------------
# check ID PATTERN [--no FILE] [--rc N] CMD...: exit 1 (or N: 2 for ppengine's usage
# errors), one line on stderr containing PATTERN, and (with --no) FILE does not
# exist afterwards.
check() {
  local id=$1 pat=$2 none="" want=1 err rc
  shift 2
  if [ "$1" = --no ]; then
    none=$2
    shift 2
  fi
  if [ "$1" = --rc ]; then
    want=$2
    shift 2
  fi
  err=$("$@" 2>&1 > /dev/null)
  rc=$?
  [ "$rc" -eq "$want" ] || fail "$id: exit status $rc, expected $want ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$id: not one line on stderr: $err"
  case "$err" in *"$pat"*) ;; *) fail "$id: message '$err' lacks '$pat'" ;; esac
  [ -z "$none" ] || [ ! -e "$none" ] || fail "$id: $none was written"
}

check dim_empty_convert "dim 'seq=9..3': the range is empty (max 3 < min 9)" --no bad.bin \
  "$PPCONVERT" "$F/bert.onnx" -o bad.bin --dim seq=9..3
check dim_unknown_convert "--dim sqe: no graph input has the symbolic extent 'sqe'" --no bad.bin \
  "$PPCONVERT" "$F/bert.onnx" -o bad.bin --dim sqe=1..8
# npy FILE DESCR SHAPE DATA_BYTES: a .npy (format 1.0) of zeros.
npy() {
  local hdr="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
  while [ $(((10 + ${#hdr} + 1) % 64)) -ne 0 ]; do hdr="$hdr "; done
  local n=$((${#hdr} + 1))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((n % 256)))\\x$(printf %02x $((n / 256)))"
    printf '%s\n' "$hdr"
    head -c "$4" /dev/zero
  } > "$1"
}
npy big.npy '<i8' '(65, 7)' 3640
if [ -f ranged.bin ]; then
  rm -rf out
  check dim_empty_run "dim 'seq=9..3': the range is empty (max 3 < min 9)" --rc 2 "$PPENGINE" run ranged.bin --dim seq=9..3
  check dim_outside_file "dim 'seq=1..600': outside the range 1..256 the graph allows for 'seq'" \
    "$PPENGINE" run ranged.bin --dim seq=1..600 --devices cpu
  check input_outside_range "input 'x' axis 1 is 50: seq = 50 is outside its range 1..32" --no out/y.npy \
    "$PPENGINE" run ranged.bin --input "$F/bert.b2s50.in.npy" --dim seq=1..32 --output out --devices cpu
  check input_outside_file "input 'x' axis 0 is 65: batch = 65 is outside its range 1..64" --no out/y.npy \
    "$PPENGINE" run ranged.bin --input big.npy --output out --devices cpu
fi

# External data (a copy of convnext's export): missing, short, outside the folder.
mkdir ext
cp "$F/convnext.onnx" ext/
check ext_missing "convnext.onnx.data" --no bad.bin "$PPCONVERT" ext/convnext.onnx -o bad.bin
head -c 1000 "$F/convnext.onnx.data" > ext/convnext.onnx.data
check ext_short "lies beyond the end of 'convnext.onnx.data'" --no bad.bin "$PPCONVERT" ext/convnext.onnx -o bad.bin
# The location rewritten in place, to an absolute path and to one above the folder,
# each as long as the original so the protobuf's lengths stay right (perl is part of
# every Debian system; python3 need not be).
cp "$F/convnext.onnx.data" ext/convnext.onnx.data
for loc in /tmp/convnext.onnx ../../convnext.onn; do
  LOC="$loc" perl -0777 -pe 's/convnext\.onnx\.data/$ENV{LOC}/g' "$F/convnext.onnx" > ext/moved.onnx ||
    { fail "cannot rewrite the location"; continue; }
  check "ext_escape_${loc:0:3}" "leaves the model's folder (absolute paths and '..' are refused)" --no bad.bin \
    "$PPCONVERT" ext/moved.onnx -o bad.bin
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "cli_symbolic: all checks passed"
