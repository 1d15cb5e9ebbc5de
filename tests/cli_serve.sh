#!/usr/bin/env bash
# ppserve end to end with curl, on loopback, on ports it picks itself:
#  - the Open Inference Protocol's endpoints: server and model metadata, health,
#    readiness, versioned paths, /metrics
#  - infer with JSON tensors and with the binary tensor data extension, on two
#    models at once: outputs equal `ppengine run` on the same inputs, exactly
#  - batching over HTTP: four requests of one row, with a delay longer than the
#    test, run as one batch of four (the batcher starts only when it is full)
#  - bad requests, each answered with its status and {"error": ...}: malformed
#    JSON, wrong datatype, shape and value count, missing and unknown inputs,
#    unknown model, version and endpoint, wrong method, a body over --max-body,
#    a client stalling mid-body (closed after --timeout while others are served),
#    more connections than --max-connections (503); the server keeps serving
#  - ppload, closed loop and open loop, JSON and binary
#  - SIGTERM: a request still queued is run and answered, then exit 0
# Servers are awaited on their "listening on" line and the queue through
# /metrics, each in a bounded number of polls; nothing waits on a fixed sleep.
# Under the sanitizer builds any report in a server's stderr fails the test.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
PPSERVE=${PPSERVE:-$PP_BINARY_DIR/ppserve}
PPLOAD=${PPLOAD:-$PP_BINARY_DIR/ppload}
for b in "$PPSERVE" "$PPLOAD" "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built (libmicrohttpd-dev missing?)"; exit 77; }
done
command -v curl > /dev/null || { echo "SKIPPED: no curl"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2> /dev/null || { echo "SKIPPED: /usr/bin/python3 has no numpy"; exit 77; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done; exit 1; }
oip() { /usr/bin/python3 "$PP_SOURCE_DIR/tests/serve/oip.py" "$@"; }
cd "$tmp"

# ---- models and references ---------------------------------------------------------
timeout 60 "$PPCONVERT" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o digits.bin > /dev/null
timeout 60 "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/models/mlp.onnx" -o mlp.bin > /dev/null
oip slice "$PP_SOURCE_DIR/examples/digits/test_x.npy" x5.npy 5
oip slice "$PP_SOURCE_DIR/examples/digits/test_x.npy" x1.npy 1
cp "$PP_SOURCE_DIR/tests/fixtures/models/mlp.input_b3.npy" m3.npy
timeout 60 "$PPENGINE" run digits.bin --input x5.npy --output ref5 --devices cpu --quiet
timeout 60 "$PPENGINE" run digits.bin --input x1.npy --output ref1 --devices cpu --quiet
timeout 60 "$PPENGINE" run mlp.bin --input m3.npy --output refm --devices cpu --quiet

# start NAME ARGS...: runs ppserve, waits for its "listening on" line, sets $port
start() {
  local name=$1
  shift
  # Created here, before the server's shell opens them: the poll below must not
  # read a file that does not exist yet (under load the fork runs later).
  : > "$name.out"
  : > "$name.err"
  "$PPSERVE" --port 0 --devices cpu "$@" > "$name.out" 2> "$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  port=
  for _ in $(seq 600); do # up to 60 s for the engines to build
    port=$(sed -n 's/^ppserve: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$name.out")
    [ -n "$port" ] && break
    kill -0 "${pids[-1]}" 2> /dev/null || fail "ppserve ($name) exited at start-up"
    sleep 0.1
  done
  [ -n "$port" ] || fail "ppserve ($name) never reported its port"
  eval "${name}_port=$port"
}

# req PORT METHOD PATH [curl args...]: the status code; the body lands in body.out
req() {
  local p=$1 m=$2 path=$3
  shift 3
  curl -s -o body.out -w '%{http_code}' -X "$m" --max-time 60 "$@" "http://127.0.0.1:$p$path"
}

# expect_error PORT STATUS TEXT METHOD PATH [curl args...]
expect_error() {
  local p=$1 want=$2 text=$3 m=$4 path=$5
  shift 5
  local got
  got=$(req "$p" "$m" "$path" "$@") || true
  [ "$got" = "$want" ] || fail "$m $path: status $got, want $want: $(head -c 300 body.out)"
  oip error body.out "$text" || fail "$m $path: not the error body wanted"
}

# stop NAME: SIGTERM, exit status 0, a clean report and no sanitizer's
stop() {
  local name=$1 pid
  pid=$(eval echo "\$${name}_pid")
  kill -TERM "$pid"
  set +e
  timeout 120 tail --pid="$pid" -f /dev/null
  wait "$pid"
  local rc=$?
  set -e
  [ "$rc" -eq 0 ] || fail "ppserve ($name) exit status $rc after SIGTERM"
  grep -q "^ppserve: stopped: " "$name.err" || fail "ppserve ($name) did not report a clean stop"
  if grep -qE "Sanitizer|runtime error:" "$name.err"; then fail "ppserve ($name): a sanitizer reported"; fi
}

# ---- A: two models, the protocol and exact outputs ------------------------------------
start a --model digits=digits.bin --model mlp=mlp.bin --max-batch 8 --max-delay-us 2000
P=$a_port
[ "$(req $P GET /v2)" = 200 ] || fail "GET /v2"
grep -q '"name":"ppserve"' body.out && grep -q '"binary_tensor_data"' body.out || fail "server metadata: $(cat body.out)"
for path in /v2/health/live /v2/health/ready /v2/models/digits/ready /v2/models/mlp/versions/1/ready; do
  [ "$(req $P GET $path)" = 200 ] || fail "GET $path"
done
[ "$(req $P GET /v2/models/digits/versions/1)" = 200 ] || fail "GET model metadata"
want='{"name":"digits","versions":["1"],"platform":"ppengine","inputs":[{"name":"input","datatype":"FP32","shape":[-1,1,8,8]}],"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,10]}]}'
[ "$(cat body.out)" = "$want" ] || fail "model metadata: $(cat body.out)"
echo "ok: metadata, health and readiness, plain and versioned"

oip json x5.npy input j5.json
[ "$(req $P POST /v2/models/digits/infer --data-binary @j5.json -H 'Content-Type: application/json')" = 200 ] ||
  fail "JSON infer: $(head -c 300 body.out)"
grep -q '"id":"json-1"' body.out || fail "the response does not echo the request's id"
oip check-json body.out logits ref5/logits.npy
oip json m3.npy input jm.json output
[ "$(req $P POST /v2/models/mlp/versions/1/infer --data-binary @jm.json)" = 200 ] || fail "JSON infer, mlp"
oip check-json body.out output refm/output.npy
echo "ok: JSON infer on two models equals ppengine run exactly"

hl=$(oip binary x5.npy input b5.bin binout)
code=$(req $P POST /v2/models/digits/infer --data-binary @b5.bin -D headers.out \
  -H "Inference-Header-Content-Length: $hl" -H 'Content-Type: application/octet-stream')
[ "$code" = 200 ] || fail "binary infer: $code $(head -c 300 body.out)"
oip check-binary body.out headers.out logits ref5/logits.npy
# binary inputs, JSON outputs
hl=$(oip binary x5.npy input b5j.bin)
code=$(req $P POST /v2/models/digits/infer --data-binary @b5j.bin -H "Inference-Header-Content-Length: $hl")
[ "$code" = 200 ] || fail "binary in, JSON out: $code $(head -c 300 body.out)"
oip check-json body.out logits ref5/logits.npy
echo "ok: binary tensor data in and out equals ppengine run byte for byte"

# ---- bad requests on A -------------------------------------------------------------
expect_error $P 400 "malformed JSON" POST /v2/models/digits/infer --data-binary '{"inputs": [ {"name": '
expect_error $P 400 "not a JSON object" POST /v2/models/digits/infer --data-binary '[1, 2]'
expect_error $P 400 "datatype INT64, but the model takes FP32" POST /v2/models/digits/infer \
  --data-binary '{"inputs":[{"name":"input","shape":[1,1,8,8],"datatype":"INT64","data":[0]}]}'
expect_error $P 400 "shape [1,1,8,7] does not fit the model's [-1,1,8,8]" POST /v2/models/digits/infer \
  --data-binary '{"inputs":[{"name":"input","shape":[1,1,8,7],"datatype":"FP32","data":[0]}]}'
expect_error $P 400 "3 values in \"data\", its shape holds 64" POST /v2/models/digits/infer \
  --data-binary '{"inputs":[{"name":"input","shape":[1,1,8,8],"datatype":"FP32","data":[1,2,3]}]}'
expect_error $P 400 "input 'input' is missing" POST /v2/models/digits/infer --data-binary '{"inputs":[]}'
expect_error $P 400 "unknown input 'image'" POST /v2/models/digits/infer \
  --data-binary '{"inputs":[{"name":"image","shape":[1],"datatype":"FP32","data":[0]}]}'
expect_error $P 400 "unknown output 'probs'" POST /v2/models/digits/infer --data-binary @<(sed 's/}]}$/}],"outputs":[{"name":"probs"}]}/' j5.json)
h='{"inputs":[{"name":"input","shape":[1,1,8,8],"datatype":"FP32","parameters":{"binary_data_size":12}}]}'
expect_error $P 400 "binary_data_size 12, but its shape needs 256 bytes" POST /v2/models/digits/infer \
  -H "Inference-Header-Content-Length: ${#h}" --data-binary "${h}123456789012"
expect_error $P 400 "exceeds the body's" POST /v2/models/digits/infer -H 'Inference-Header-Content-Length: 9999' \
  --data-binary '{"inputs":[]}'
expect_error $P 404 "unknown model 'resnet'" POST /v2/models/resnet/infer --data-binary @j5.json
expect_error $P 404 "unknown model 'resnet'" GET /v2/models/resnet
expect_error $P 404 "has no version '2'" POST /v2/models/digits/versions/2/infer --data-binary @j5.json
expect_error $P 404 "no such endpoint" GET /v2/models/digits/stats
expect_error $P 404 "no such endpoint" GET /v1/models
expect_error $P 405 "takes POST, not GET" GET /v2/models/digits/infer
oip check-json <(curl -s --data-binary @j5.json "http://127.0.0.1:$P/v2/models/digits/infer") logits ref5/logits.npy ||
  fail "A stopped serving well after bad requests"
echo "ok: 16 bad requests answered with their status and an OIP error; A still serves"

# ppload against A: both models at once, closed and open loop, JSON and binary
out1=$(timeout 120 "$PPLOAD" "127.0.0.1:$P" --model digits --concurrency 8 --requests 400 --batch 3) ||
  fail "ppload closed loop: $out1"
out2=$(timeout 120 "$PPLOAD" "127.0.0.1:$P" --model mlp --concurrency 4 --requests 100 --json) || fail "ppload --json: $out2"
out3=$(timeout 120 "$PPLOAD" "127.0.0.1:$P" --model digits --concurrency 4 --rate 200 --duration 1) ||
  fail "ppload open loop: $out3"
grep -q "400 ok, 0 failed" <<< "$out1" && grep -q "100 ok, 0 failed" <<< "$out2" && grep -q " 0 failed" <<< "$out3" ||
  fail "ppload: $out1 $out2 $out3"
grep -qE "latency ms: p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  max [0-9.]+" <<< "$out1" || fail "ppload printed no latencies"
curl -s "http://127.0.0.1:$P/metrics" > metrics.out
grep -q '^ppserve_errors_total{kind="bad_request"} 10$' metrics.out || fail "metrics: bad_request count: $(grep errors_total metrics.out)"
grep -q '^ppserve_errors_total{kind="not_found"} 5$' metrics.out || fail "metrics: not_found count"
for m in ppserve_queue_depth ppserve_batch_size_bucket ppserve_queue_seconds_bucket ppserve_compute_seconds_count; do
  grep -q "^$m{model=\"digits\"" metrics.out || fail "metrics: no $m"
done
rows=$(sed -n 's/^ppserve_batch_size_sum{model="digits"} //p' metrics.out)
[ "$rows" -ge $((400 * 3 + 10)) ] || fail "metrics: $rows rows run for digits"
echo "ok: ppload over two models, JSON and binary, closed and open loop; /metrics counts them"
stop a

# ---- B: limits ------------------------------------------------------------------------
# --timeout 5: long enough that the idle connections opened below are not
# dropped before the request that must find them (a loaded machine can stall
# a shell for a second or two), short enough to wait out the stalled client.
start b --model digits=digits.bin --max-connections 2 --max-body 4K --timeout 5
P=$b_port
head -c 5000 /dev/zero > big.bin
expect_error $P 413 "exceeds --max-body 4096" POST /v2/models/digits/infer --data-binary @big.bin
# A client that stops half way through its body: others are served meanwhile,
# and it is closed after --timeout.
exec 3<> "/dev/tcp/127.0.0.1/$P"
printf 'POST /v2/models/digits/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"inputs":' >&3
oip check-json <(curl -s --data-binary @j5.json "http://127.0.0.1:$P/v2/models/digits/infer") logits ref5/logits.npy ||
  fail "B did not serve while a client stalled"
set +e
timeout 30 cat <&3 > /dev/null
rc=$?
set -e
exec 3>&-
[ "$rc" -eq 0 ] || fail "the stalled client was not disconnected within 30 s (--timeout 5)"
# Counted now (the idle connections below may time out too on a loaded machine),
# once the server's thread has recorded the close it made.
counted=
for _ in $(seq 100); do
  curl -s "http://127.0.0.1:$P/metrics" > metrics.out
  grep -q '^ppserve_errors_total{kind="timeout"} 1$' metrics.out && { counted=1; break; }
  sleep 0.1
done
[ -n "$counted" ] || fail "metrics: the stall is not counted: $(grep errors_total metrics.out)"
echo "ok: a body over --max-body gets 413; a stalled client is dropped while others are served"
# Two idle connections fill --max-connections 2: a third gets 503.
exec 3<> "/dev/tcp/127.0.0.1/$P"
exec 4<> "/dev/tcp/127.0.0.1/$P"
expect_error $P 503 "more than --max-connections 2" POST /v2/models/digits/infer --data-binary @j5.json
exec 3>&- 4>&-
ok=
for _ in $(seq 100); do # the server sees the two closes on its own threads
  code=$(req $P POST /v2/models/digits/infer --data-binary @j5.json) || true
  [ "$code" = 200 ] && { ok=1; break; }
  sleep 0.1
done
[ -n "$ok" ] || fail "B did not serve again after the extra connections closed"
oip check-json body.out logits ref5/logits.npy
echo "ok: connections past --max-connections get 503 and the server recovers"
stop b

# ---- C: batching over HTTP, and SIGTERM with a request queued --------------------------
start c --model digits=digits.bin --max-batch 4 --max-delay-us 60000000
P=$c_port
oip json x1.npy input j1.json
cpids=()
for i in 1 2 3 4; do
  curl -s -o "c$i.json" -w '%{http_code}' --max-time 60 --data-binary @j1.json \
    "http://127.0.0.1:$P/v2/models/digits/infer" > "c$i.code" &
  cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p" || fail "a batched curl failed"; done
for i in 1 2 3 4; do
  [ "$(cat c$i.code)" = 200 ] || fail "batched request $i: $(cat c$i.code)"
  oip check-json "c$i.json" logits ref1/logits.npy
done
curl -s "http://127.0.0.1:$P/metrics" > metrics.out
grep -q '^ppserve_batch_size_bucket{model="digits",le="4"} 1$' metrics.out &&
  grep -q '^ppserve_batch_size_sum{model="digits"} 4$' metrics.out ||
  fail "four one-row requests did not run as one batch of four: $(grep batch_size metrics.out)"
echo "ok: four requests of one row over HTTP ran as one batch of four, each answered with its own row"

curl -s -o late.json -w '%{http_code}' --max-time 60 --data-binary @j1.json \
  "http://127.0.0.1:$P/v2/models/digits/infer" > late.code &
lpid=$!
queued=
for _ in $(seq 300); do
  curl -s "http://127.0.0.1:$P/metrics" | grep -q '^ppserve_queue_depth{model="digits"} 1$' && { queued=1; break; }
  sleep 0.1
done
[ -n "$queued" ] || fail "the request never showed in the queue"
stop c
wait "$lpid" || true
[ "$(cat late.code)" = 200 ] || fail "the request queued at SIGTERM got $(cat late.code)"
oip check-json late.json logits ref1/logits.npy
grep -q "draining 1 request in flight" c.err || fail "no drain reported: $(cat c.err)"
echo "ok: SIGTERM runs the queued request, answers it, and exits 0"

# ---- usage errors ------------------------------------------------------------------------
set +e
msg=$("$PPSERVE" 2>&1); rc1=$?
msg2=$("$PPSERVE" --model digits 2>&1); rc2=$?
msg3=$("$PPSERVE" --model d=/nonexistent.bin --port 0 2>&1); rc3=$?
msg4=$("$PPSERVE" --model d=digits.bin --max-body 12Q 2>&1); rc4=$?
set -e
[ $rc1 = 2 ] && grep -q "needs at least one --model" <<< "$msg" || fail "no models: $rc1 $msg"
[ $rc2 = 2 ] && grep -q "is not NAME=GRAPH" <<< "$msg2" || fail "bad --model: $rc2 $msg2"
[ $rc3 = 1 ] && grep -q "/nonexistent.bin" <<< "$msg3" || fail "missing graph: $rc3 $msg3"
[ $rc4 = 2 ] && grep -q -- "--max-body '12Q'" <<< "$msg4" || fail "bad --max-body: $rc4 $msg4"
echo "ok: usage errors"
echo "cli_serve: all checks passed"
