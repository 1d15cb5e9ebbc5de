#!/usr/bin/env bash
# Real PyTorch exports (the committed fixtures) through ppconvert, then run as a
# 2-stage pipeline on 4 logical CPU devices (2 replicas) with micro-batch 3 on a
# batch of 7: outputs identical to one device, byte for byte, and the trace
# shows every micro-batch pass every step of the pipeline in order.
# --deterministic is what promises the same bytes whatever the placement.
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
# Pipelining, from the trace of 16 micro-batches over 2 stages x 2 replicas: each
# micro-batch is uploaded, computed on stage 0, copied in, computed on stage 1
# and downloaded exactly once, each step starting only after the one before it
# ended (the events order them; the timestamps must agree). How many streams
# were busy at once depends on the machine's load, so it is printed, not
# asserted: a figure for benchmarks (profiling/bench_pipeline), not a test.
line=$("$PPENGINE" run "$tmp/resnet.bin" --batch 64 --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --microbatch 4 \
  --trace "$tmp/pipe.json" | grep '^trace:')
awk -v want=16 '
  /"ph":"X"/ {
    match($0, /"cat":"[^"]*"/); cat = substr($0, RSTART + 7, RLENGTH - 8)
    match($0, /"ts":[0-9.]+/); ts = substr($0, RSTART + 5, RLENGTH - 5) + 0
    match($0, /"dur":[0-9.]+/); dur = substr($0, RSTART + 6, RLENGTH - 6) + 0
    match($0, /"micro_batch":[0-9]+/); mb = substr($0, RSTART + 14, RLENGTH - 14) + 0
    match($0, /"stage":[0-9]+/); st = substr($0, RSTART + 8, RLENGTH - 8) + 0
    k = cat "/" st "/" mb
    if (k in t0) { print "FAIL: " k " appears twice in the trace"; bad = 1 }
    t0[k] = ts; t1[k] = ts + dur
  }
  END {
    n = split("upload/0,compute/0,copy in/1,compute/1,download/1", step, ",")
    for (mb = 0; mb < want; mb++)
      for (i = 1; i <= n; i++) {
        split(step[i], p, "/"); k = p[1] "/" p[2] "/" mb
        if (!(k in t0)) { print "FAIL: no " k " in the trace"; bad = 1; continue }
        if (i > 1) {
          split(step[i - 1], q, "/"); j = q[1] "/" q[2] "/" mb
          # 2 ns of slack: ts and dur are each rounded to 1 ns
          if ((j in t1) && t0[k] + 0.002 < t1[j]) { print "FAIL: " k " starts before " j " ends"; bad = 1 }
        }
      }
    exit bad
  }' "$tmp/pipe.json" || { echo "FAIL: the trace does not show the pipeline in order"; exit 1; }
echo "ok: 16 micro-batches through 2 stages x 2 replicas, each step after the one before it (${line#trace: })"
