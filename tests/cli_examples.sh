#!/usr/bin/env bash
# The embedding examples end to end on the bundled digits model (examples/):
#  - classify: every sample image (PPM P5/P6, PNG gray/gray+alpha/RGB/RGBA, one
#    that needs resizing) predicts its label; broken images fail cleanly
#  - ppbatch: interrupted with SIGINT after its second chunk, no OUTPUT.npy exists;
#    the rerun resumes and the result equals `ppengine run` byte for byte
# The SIGINT arrives at a chosen call (tests/shim/killpoint.c), not after a
# delay; ctest's TIMEOUT is the one guard against a hang. (ppserve, the OIP
# server, has its own tests: cli_serve.sh, cli_serve_triton.sh.)
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}" "${PP_BINARY_DIR:?}" "${PP_KILLPOINT_LIB:?}"
ex=${PP_EXAMPLES_DIR:-$PP_BINARY_DIR/examples}
for b in "$PPCONVERT" "$PPENGINE" "$ex/classify" "$ex/ppbatch"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

digits=$PP_SOURCE_DIR/examples/digits
samples=$PP_SOURCE_DIR/examples/classify/samples
"$PPCONVERT" "$digits/digits.onnx" -o "$tmp/digits.bin" > /dev/null
graph=$tmp/digits.bin

# ---- classify ---------------------------------------------------------------------
n=0
for img in "$samples"/digit_*.ppm "$samples"/digit_*.png; do
  name=$(basename "$img")
  label=${name#digit_}
  label=${label%%[-.]*}
  out=$("$ex/classify" "$graph" "$img" --size 8,8 --gray --scale 240 \
    --labels "$samples/digits_labels.txt") || fail "classify $name exited non-zero"
  # the line after "top-5:" is "  PROB  INDEX  LABEL"
  top1=$(awk 'f { print $2; exit } /^top-/ { f = 1 }' <<< "$out")
  [ "$top1" = "$label" ] || { echo "$out"; fail "classify $name: top-1 is '$top1', label $label"; }
  n=$((n + 1))
done
[ "$n" -ge 20 ] || fail "only $n sample images found in $samples"
echo "ok: classify predicts the label of all $n sample images"

# Broken or unsupported images: a message and exit 1, never a crash.
printf 'P6\n8 8\n255\n' > "$tmp/short.ppm"
printf 'P5 99999 99999 255\n' > "$tmp/huge.ppm"
printf 'not an image' > "$tmp/text.png"
head -c 60 "$samples/digit_3.png" > "$tmp/trunc.png"
{ head -c 40 "$samples/digit_3.png"; printf 'X'; tail -c +42 "$samples/digit_3.png"; } > "$tmp/crc.png"
for bad in short.ppm huge.ppm text.png trunc.png crc.png; do
  set +e
  msg=$("$ex/classify" "$graph" "$tmp/$bad" 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "classify on $bad: exit $rc (want 1): $msg"
  grep -q "$bad" <<< "$msg" || fail "classify on $bad: the message does not name the file: $msg"
done
echo "ok: classify rejects 5 broken images with a message"

# ---- ppbatch -----------------------------------------------------------------------
# Chunks of 7 items; SIGINT is raised as the third progress rename begins (the
# first records 0 items, each later one a chunk), so the run stops with exactly
# 14 items claimed. The reference is one `ppengine run` over the whole file: the
# CPU kernels are batch-invariant, so chunks of 7 give the same bytes.
"$PPENGINE" run "$graph" --input "$digits/test_x.npy" --output "$tmp/ref" --devices cpu --quiet
outp=$tmp/pred.npy
set +e
LD_PRELOAD=$PP_KILLPOINT_LIB PP_KILLPOINT=rename:3:INT ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
  "$ex/ppbatch" "$graph" "$digits/test_x.npy" "$outp" --chunk 7 --devices cpu 2> "$tmp/batch1.err"
rc=$?
set -e
[ "$rc" -eq 130 ] || { cat "$tmp/batch1.err"; fail "interrupted ppbatch: exit $rc, want 130"; }
[ ! -e "$outp" ] || fail "an interrupted ppbatch left $outp"
[ -f "$outp.partial" ] && [ -f "$outp.progress" ] || fail "no .partial/.progress after the interruption"
done_items=$(sed -n 's/^done //p' "$outp.progress")
[ "$done_items" = 14 ] || fail "progress says $done_items items after the interruption, want 14"
grep -q "interrupted after 14 of 540" "$tmp/batch1.err" || fail "ppbatch did not report the interruption"
echo "ok: SIGINT stopped ppbatch after 14 of 540 items, no $outp"

"$ex/ppbatch" "$graph" "$digits/test_x.npy" "$outp" --chunk 7 --devices cpu 2> "$tmp/batch2.err" ||
  { cat "$tmp/batch2.err"; fail "ppbatch rerun failed"; }
grep -q "resuming at item $done_items of 540" "$tmp/batch2.err" || { cat "$tmp/batch2.err"; fail "the rerun did not resume"; }
[ ! -e "$outp.partial" ] && [ ! -e "$outp.progress" ] || fail "ppbatch left its .partial or .progress behind"
cmp "$outp" "$tmp/ref/logits.npy" || fail "resumed ppbatch output differs from ppengine run"
echo "ok: the resumed ppbatch output equals ppengine run byte for byte"

# A progress file for other data is not trusted: the run starts over.
"$ex/ppbatch" "$graph" "$digits/test_x.npy" "$tmp/p2.npy" --chunk 540 --devices cpu --quiet
printf 'ppbatch progress 1\ndone 500\ngraph 1 2\n' > "$tmp/p3.npy.progress"
cp "$tmp/p2.npy" "$tmp/p3.npy.partial"
"$ex/ppbatch" "$graph" "$digits/test_x.npy" "$tmp/p3.npy" --chunk 540 --devices cpu 2> "$tmp/batch3.err"
grep -q "starting over" "$tmp/batch3.err" || { cat "$tmp/batch3.err"; fail "a foreign progress file was trusted"; }
cmp "$tmp/p2.npy" "$tmp/p3.npy" || fail "the restarted run differs"
set +e
"$ex/ppbatch" "$graph" "$digits/test_y.npy" "$tmp/bad.npy" --quiet 2> /dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] && [ ! -e "$tmp/bad.npy" ] || fail "ppbatch on a mismatched input: exit $rc"
echo "ok: ppbatch distrusts foreign progress and refuses mismatched input"
