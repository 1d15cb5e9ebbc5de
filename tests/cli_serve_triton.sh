#!/usr/bin/env bash
# ppserve through Triton's own Python client, tritonclient[http] from PyPI, in a
# venv this test makes under the build folder when it is not there yet
# (tests/serve/triton_check.py says what it checks). Skipped, saying so, when
# PyPI cannot be reached or Debian's python3-venv is missing. The server is
# awaited on its "listening on" line within a bounded number of polls.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}" "${PP_BINARY_DIR:?}"
PPSERVE=${PPSERVE:-$PP_BINARY_DIR/ppserve}
[ -x "$PPSERVE" ] || { echo "SKIPPED: $PPSERVE is not built (libmicrohttpd-dev missing?)"; exit 77; }
/usr/bin/python3 -c 'import numpy, venv' 2> /dev/null || { echo "SKIPPED: /usr/bin/python3 lacks numpy or venv"; exit 77; }

venv=$PP_BINARY_DIR/serve-venv
if ! "$venv/bin/python" -c 'import tritonclient.http' 2> /dev/null; then
  rm -rf "$venv.new"
  /usr/bin/python3 -m venv --system-site-packages "$venv.new" # numpy comes from Debian
  if ! log=$(timeout 600 "$venv.new/bin/pip" install -q --disable-pip-version-check 'tritonclient[http]' 2>&1); then
    rm -rf "$venv.new"
    echo "SKIPPED: pip could not install tritonclient[http] (is PyPI reachable?): $(tail -2 <<< "$log")"
    exit 77
  fi
  rm -rf "$venv"
  mv "$venv.new" "$venv" # only a complete venv gets the final name
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -s "$tmp/serve.err" ] && tail -20 "$tmp/serve.err"; exit 1; }
cd "$tmp"
oip() { /usr/bin/python3 "$PP_SOURCE_DIR/tests/serve/oip.py" "$@"; }
timeout 60 "$PPCONVERT" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o digits.bin > /dev/null
timeout 60 "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/models/mlp.onnx" -o mlp.bin > /dev/null
oip slice "$PP_SOURCE_DIR/examples/digits/test_x.npy" x5.npy 5
cp "$PP_SOURCE_DIR/tests/fixtures/models/mlp.input_b3.npy" m3.npy
timeout 60 "$PPENGINE" run digits.bin --input x5.npy --output r5 --devices cpu --quiet
timeout 60 "$PPENGINE" run mlp.bin --input m3.npy --output rm --devices cpu --quiet
cp r5/logits.npy ref5.npy
cp rm/output.npy refm.npy

: > serve.out # before the poll below reads it (the server's shell may open it later)
"$PPSERVE" --model digits=digits.bin --model mlp=mlp.bin --port 0 --devices cpu --max-batch 8 --max-delay-us 2000 \
  > serve.out 2> serve.err &
pid=$!
port=
for _ in $(seq 600); do
  port=$(sed -n 's/^ppserve: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' serve.out)
  [ -n "$port" ] && break
  kill -0 "$pid" 2> /dev/null || fail "ppserve exited at start-up"
  sleep 0.1
done
[ -n "$port" ] || fail "ppserve never reported its port"
timeout 300 "$venv/bin/python" "$PP_SOURCE_DIR/tests/serve/triton_check.py" "$port" "$tmp" || fail "triton_check failed"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
[ "$rc" -eq 0 ] || fail "ppserve exit status $rc after SIGTERM"
if grep -qE "Sanitizer|runtime error:" serve.err; then fail "a sanitizer reported"; fi
echo "cli_serve_triton: tritonclient agrees with ppengine run"
