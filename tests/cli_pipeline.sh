#!/usr/bin/env bash
# Real PyTorch exports (the committed fixtures) through ppconvert, then run as a
# 2-stage pipeline on 4 logical CPU devices (2 replicas) with micro-batch 3 on a
# batch of 7: outputs identical to one device, byte for byte, and the trace
# shows streams running at the same time. --deterministic is what promises
# the same bytes whatever the placement.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
[ -x "$PPCONVERT" ] || { echo "SKIPPED: no ppconvert"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in resnet mobilenet densenet vit gpt; do
  "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/models/$m.onnx" -o "$tmp/$m.bin" > /dev/null
  "$PPENGINE" run "$tmp/$m.bin" --batch 7 --seed 3 --devices cpu --deterministic --output "$tmp/$m.one" --quiet
  "$PPENGINE" run "$tmp/$m.bin" --batch 7 --seed 3 --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --microbatch 3 \
    --deterministic --output "$tmp/$m.pipe" --trace "$tmp/$m.trace.json" --quiet
  for f in "$tmp/$m.one"/*.npy; do
    cmp "$f" "$tmp/$m.pipe/$(basename "$f")" || { echo "FAIL: $m pipelined output differs"; exit 1; }
  done
  grep -q '"ph":"X"' "$tmp/$m.trace.json" || { echo "FAIL: $m trace has no spans"; exit 1; }
  echo "ok: $m pipelined = single device"
done
# Overlap: with enough micro-batches, some instant has two streams busy.
best=0
for i in 1 2 3 4 5; do
  line=$("$PPENGINE" run "$tmp/resnet.bin" --batch 64 --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --microbatch 4 \
    --trace "$tmp/overlap.json" | grep '^trace:')
  n=$(sed -E 's/.*at most ([0-9]+) streams.*/\1/' <<<"$line")
  [ "$n" -gt "$best" ] && best=$n
  [ "$best" -ge 2 ] && break
done
[ "$best" -ge 2 ] || { echo "FAIL: the trace never shows two streams at once"; exit 1; }
echo "ok: up to $best streams busy at once"
