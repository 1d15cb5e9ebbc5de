#!/usr/bin/env bash
# ppengine bench on the CPU: the report (throughput, latency percentiles, the
# per-node --profile table), the --json file (parsed, its figures consistent),
# the modes (--cuda-graph replays captured launches, --no-transfers runs device
# buffer to device buffer; on the CPU both run and are reported), what is
# refused, and profiling/plot_bench.py drawing the JSON files as a PNG.
#
# Environment (set by ctest): PPENGINE, PPCONVERT, PP_SOURCE_DIR. Exit 77 when
# the tools are not built.
set -u
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
T=$(mktemp -d /tmp/pp_cli_bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

"$PPCONVERT" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o digits.bin > convert.log 2>&1 || {
  cat convert.log; echo "FAIL: ppconvert"; exit 1; }

# json FILE KEY=VALUE...: the file parses, and each key (dotted for nesting) holds
# the value given; every latency figure is positive and ordered.
json() {
  "$PY" - "$@" << 'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_ms"]
order = [lat["min"], lat["median"], lat["p90"], lat["p95"], lat["p99"], lat["max"]]
assert all(v > 0 for v in order), lat
assert order == sorted(order), lat
assert lat["min"] <= lat["mean"] <= lat["max"], lat
assert r["throughput_items_per_s"] > 0, r
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    x = r
    for part in k.split("."):
        x = x[part]
    assert json.dumps(x) == v, f"{k}: {json.dumps(x)} != {v}"
EOF
}

# 1. host buffers, launch by launch, with the per-node table
if "$PPENGINE" bench digits.bin --devices cpu --batch 4 --iterations 30 --warmup 0 --profile --json plain.json \
     > plain.out 2> plain.err; then
  # the mode the timed runs actually used (profiling launches one by one)
  grep -Eq "^mode: fp32, launch by launch \(0 graph replays, [1-9][0-9]* launches one by one\), host buffers" \
    plain.out || fail "plain: mode line: $(cat plain.out)"
  grep -Eq "^throughput: [0-9.]+ items/s" plain.out || fail "plain: no throughput line"
  grep -Eq "^latency ms: min [0-9.]+  mean [0-9.]+  median [0-9.]+  p90 [0-9.]+  p95 [0-9.]+  p99 [0-9.]+  max" \
    plain.out || fail "plain: no latency line"
  grep -Eq "^runs: 30 timed" plain.out || fail "plain: not 30 timed runs"
  # the profile table: every node of the graph once, shares adding up to 100 %
  nodes=$("$PPENGINE" info digits.bin | sed -n 's/^nodes: \([0-9]*\).*/\1/p')
  rows=$(awk '/^node +op +ms\/run/{t=1; next} t && /^split per run/{t=0} t && NF>=6' plain.out | wc -l)
  [ -n "$nodes" ] && [ "$rows" -eq "$nodes" ] || fail "plain: profile table has $rows rows for ${nodes:-?} nodes"
  share=$(awk '/^node +op +ms\/run/{t=1; next} t && /^split per run/{t=0} t && NF>=6 {s+=$(NF-2)} END{printf "%.0f", s}' \
    plain.out)
  [ "$share" -ge 99 ] && [ "$share" -le 101 ] || fail "plain: profile shares add up to $share %"
  grep -Eq "^split per run \(stream time\): upload [0-9.]+ ms, compute [0-9.]+ ms, copies between stages [0-9.]+ ms, download [0-9.]+ ms; host [0-9.]+ ms" \
    plain.out || fail "plain: no upload/compute/copy/download/host split: $(grep split plain.out)"
  "$PY" -c "
import json, sys
s = json.load(open('plain.json'))['split_ms']
assert s['compute'] > 0 and s['upload'] >= 0 and s['download'] >= 0 and s['stage_copies'] == 0, s
" || fail "plain.json: split_ms"
  json plain.json 'precision="fp32"' 'graphs=false' 'mode="launches"' 'graph_replays=0' 'transfers=true' 'batch=4' \
    'stages=1' 'runs=30' 'device="cpu:0"' ||
    fail "plain.json"
else
  fail "plain bench: $(cat plain.err)"
fi

# 2. graphs and device buffers through a two-stage pipeline
if "$PPENGINE" bench digits.bin --devices cpu:0,cpu:1 --stages 2 --microbatch 2 --batch 8 --iterations 20 \
     --warmup 0 --cuda-graph --no-transfers --json fast.json > fast.out 2> fast.err; then
  # 20 runs x 4 micro-batches x 2 stages, each one graph replay
  grep -q "^mode: fp32, graphs (captured launches replayed) (160 graph replays, 0 launches one by one), device buffers (no host transfers)" fast.out ||
    fail "fast: mode line: $(grep mode fast.out)"
  json fast.json 'graphs=true' 'mode="graphs"' 'graph_replays=160' 'launches=0' 'transfers=false' 'batch=8' 'stages=2' \
    'microbatch=2' || fail "fast.json"
else
  fail "graphs + device buffers bench: $(cat fast.err)"
fi

# 3. device buffers live on one device: two replicas are refused, by name
"$PPENGINE" bench digits.bin --devices cpu:0,cpu:1 --iterations 2 --warmup 0 --no-transfers > two.out 2> two.err
rc=$?
[ "$rc" -eq 1 ] || fail "two replicas + --no-transfers: exit $rc"
grep -q "2 replicas (cpu:0, cpu:1" two.err || fail "two replicas + --no-transfers: $(cat two.err)"

# 4. the plot
if "$PY" -c "import matplotlib" 2> /dev/null; then
  "$PY" "$PP_SOURCE_DIR/profiling/plot_bench.py" plain.json fast.json -o bench.png > plot.log 2>&1 ||
    fail "plot_bench.py: $(cat plot.log)"
  [ "$(head -c 4 bench.png 2> /dev/null | od -An -c | tr -d ' ')" = "211PNG" ] || fail "plot_bench.py wrote no PNG"
else
  echo "note: no matplotlib; plot_bench.py not checked"
fi

[ "$fails" -eq 0 ] && echo "cli_bench: all checks passed" && exit 0
echo "cli_bench: $fails failed"
exit 1
