#!/usr/bin/env bash
# ppengine plan: every node's output format and kernel, the planner's conversion
# count and the peak activation memory, for the devices given or, with
# --assume-gpu, for a GPU this machine does not have (no driver needed). The
# counts are checked against the planned graph itself: one table row per node,
# as many REFORMAT rows as conversions reported.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
[ -x "$PPCONVERT" ] || { echo "SKIPPED: no ppconvert"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

check_table() { # FILE MODEL: the table agrees with itself and with the summary lines
  local f=$1 m=$2 rows reformats conv peak
  rows=$(awk '$1 ~ /^[0-9]+$/ && NF >= 5 && $2 ~ /^[A-Z_]+$/' "$f" | wc -l)
  reformats=$(awk '$2 == "REFORMAT"' "$f" | wc -l)
  conv=$(sed -n 's/^conversions: \([0-9]*\)$/\1/p' "$f")
  peak=$(sed -n 's/^peak activation memory: \([0-9]*\) bytes$/\1/p' "$f")
  [ -n "$conv" ] || fail "$m: no 'conversions: N' line"
  [ -n "$peak" ] && [ "$peak" -gt 0 ] || fail "$m: no 'peak activation memory: B bytes' line"
  [ "$rows" -gt 0 ] || fail "$m: no node rows"
  [ "$reformats" -eq "$conv" ] || fail "$m: $reformats REFORMAT rows but 'conversions: $conv'"
  echo "ok: $m: $rows nodes, $conv conversions, peak $peak bytes"
}

for m in resnet mobilenet efficientnet vit gpt; do
  "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/models/$m.onnx" -o "$tmp/$m.bin" > /dev/null
  # the reference CPU runs everything plain f32: nothing to convert
  "$PPENGINE" plan "$tmp/$m.bin" --devices cpu --batch 4 > "$tmp/$m.cpu.txt"
  check_table "$tmp/$m.cpu.txt" "$m (cpu)"
  grep -q '^conversions: 0$' "$tmp/$m.cpu.txt" || fail "$m: the reference CPU converts"
  for prec in fp16 bf16; do
    "$PPENGINE" plan "$tmp/$m.bin" --devices cuda:0 --precision $prec --assume-gpu h200 --batch 8 \
      > "$tmp/$m.$prec.txt" 2> "$tmp/err" || { cat "$tmp/err"; fail "$m: plan --assume-gpu h200 $prec failed"; }
    grep -q '^assuming NVIDIA H200' "$tmp/$m.$prec.txt" || fail "$m: the assumed device is not named"
    check_table "$tmp/$m.$prec.txt" "$m (h200 $prec)"
  done
done

# bad requests: a clear message, no table
if "$PPENGINE" plan "$tmp/resnet.bin" --devices cuda:0 --assume-gpu v100 > "$tmp/out" 2> "$tmp/err"; then
  fail "an unknown GPU name was accepted"
fi
grep -q "'v100' is not one of h200, h100, a100, l4" "$tmp/err" || fail "unknown GPU: $(cat "$tmp/err")"
if "$PPENGINE" plan "$tmp/resnet.bin" --devices cpu --assume-gpu h200 > "$tmp/out" 2> "$tmp/err"; then
  fail "--assume-gpu with CPU devices was accepted"
fi
grep -q "plans for CUDA devices" "$tmp/err" || fail "cpu + --assume-gpu: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "a refused plan printed a table"
echo "ok: unknown GPUs and non-CUDA devices are refused"
