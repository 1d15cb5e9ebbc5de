#!/usr/bin/env bash
# ppengine run chunked in one process (no MPI needed), against one plain run:
#  (a) a folder of .npy files, chunks cut across their borders: the same
#      logits.npy byte for byte; --chunk 1 and a chunk larger than the input too;
#  (b) SIGKILL as the 6th chunk's record is synced (tests/shim/killpoint.c: a
#      chosen call, not a delay), a torn last line appended to the manifest as a
#      kill mid-append would leave it: --resume computes only the chunks not
#      recorded, and the result is the same;
#  (c) --resume over a record made with another --chunk is refused, naming the
#      line; --resume of a complete job computes nothing;
#  (d) chunked runs refuse what they cannot do (no --output, a missing input).
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}" "${PP_KILLPOINT_LIB:?}"
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
tmp=$(mktemp -d /tmp/pp_cli_chunked.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Under mpirun or srun a run would be one rank of their job; this test is one process.
# Chunks are batches of other sizes: --deterministic promises their bytes.
run() { "$PPENGINE" run "$graph" --no-mpi --devices cpu --deterministic "$@"; }

digits=$PP_SOURCE_DIR/examples/digits
src=$digits/test_x.npy
items=540
graph=$tmp/digits.bin
"$PPCONVERT" "$digits/digits.onnx" -o "$graph" > /dev/null
run --input "$src" --output "$tmp/ref" --quiet
ref=$tmp/ref/logits.npy

# ---- (a) a folder --------------------------------------------------------------------------
# npy_slice FIRST COUNT DST: items [FIRST, FIRST+COUNT) of test_x.npy as an .npy of
# its own: the same header with axis 0 rewritten (padded to its length).
hl=$((10 + $(od -An -tu2 -j8 -N2 "$src" | tr -d ' ')))
isz=$((($(stat -c %s "$src") - hl) / items))
npy_slice() {
  local pad
  pad=$(printf '%*s' $((${#items} - ${#2})) '')
  head -c "$hl" "$src" | LC_ALL=C sed "s/($items, /($2, $pad/" > "$3"
  dd if="$src" iflag=skip_bytes,count_bytes skip=$((hl + $1 * isz)) count=$(($2 * isz)) bs=64K status=none >> "$3"
}
mkdir "$tmp/in"
npy_slice 0 300 "$tmp/in/a.npy"
npy_slice 300 1 "$tmp/in/b.npy"
npy_slice 301 239 "$tmp/in/c.npy"
for chunk in 1 64 1000; do
  run --input "$tmp/in" --output "$tmp/a$chunk" --chunk $chunk > "$tmp/a.out" 2> "$tmp/a.err" ||
    { cat "$tmp/a.out" "$tmp/a.err"; fail "a folder with --chunk $chunk failed"; }
  cmp "$tmp/a$chunk/logits.npy" "$ref" || fail "a folder with --chunk $chunk: logits.npy differs from one run"
  grep -qx complete "$tmp/a$chunk/chunks/manifest" || fail "--chunk $chunk: the manifest does not say complete"
done
grep -Eq "^ppengine: $items/$items items +[0-9.]+ items/s +ETA 0:00:00$" "$tmp/a.err" ||
  { cat "$tmp/a.err"; fail "no final progress line on a pipe"; }
echo "ok: a folder of 3 files in chunks of 1, 64 and 1000 gives the same logits.npy as one run"

# ---- (b) kill -9, torn record, resume ------------------------------------------------------------
out=$tmp/b
man=$out/chunks/manifest
# Each chunk: its file written and renamed, its record appended, then synced.
set +e
LD_PRELOAD=$PP_KILLPOINT_LIB PP_KILLPOINT=fdatasync:6 ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
  "$PPENGINE" run "$graph" --no-mpi --devices cpu --deterministic --input "$src" --output "$out" --chunk 4 \
  > /dev/null 2> "$tmp/b1.err"
rc=$?
set -e
[ "$rc" -eq 137 ] || fail "expected death by SIGKILL, got exit $rc"
[ ! -e "$out/logits.npy" ] || fail "a killed run wrote logits.npy"
n=$(grep -c '^done ' "$man")
[ "$n" -eq 6 ] || fail "killed at the 6th record's sync, the manifest holds $n records, want 6"
printf 'done 1' >> "$man" # what a kill in the middle of an append leaves
run --input "$src" --output "$out" --chunk 4 --resume > "$tmp/b2.out" 2> "$tmp/b2.err" ||
  { cat "$tmp/b2.out" "$tmp/b2.err"; fail "--resume failed"; }
grep -q "resuming: $n of 135 chunks are recorded" "$tmp/b2.err" || { cat "$tmp/b2.err"; fail "--resume did not start at $n"; }
[ "$(awk '/^all/{print $2}' "$tmp/b2.out")" -eq $((135 - n)) ] ||
  { cat "$tmp/b2.out"; fail "--resume computed other than the $((135 - n)) missing chunks"; }
cmp "$out/logits.npy" "$ref" || fail "the resumed logits.npy differs from one run"
[ "$(grep -c '^done ' "$man")" -eq 135 ] && [ "$(awk '/^done /{print $2}' "$man" | sort -u | wc -l)" -eq 135 ] ||
  fail "the manifest does not record each of 135 chunks once"
if compgen -G "$out/chunks/c*" > /dev/null || compgen -G "$out/*.tmp.*" > /dev/null; then
  fail "chunk files or temporaries left: $(ls "$out" "$out/chunks")"
fi
echo "ok: killed with $n of 135 chunks recorded and a torn record; --resume computed the other $((135 - n))"

# ---- (c) resume refused, resume of a complete job ----------------------------------------------------
run --input "$src" --output "$out" --chunk 5 --resume > /dev/null 2> "$tmp/c1.err" && fail "--resume with another --chunk was accepted"
grep -q "manifest was written for another job: line 3 is 'chunk_items 4' where this run has 'chunk_items 5'" \
  "$tmp/c1.err" || { cat "$tmp/c1.err"; fail "the refusal does not name the line"; }
run --input "$src" --output "$out" --chunk 4 --resume > "$tmp/c2.out" 2> "$tmp/c2.err" ||
  { cat "$tmp/c2.err"; fail "--resume of a complete job failed"; }
grep -q "; 0 to compute" "$tmp/c2.out" || { cat "$tmp/c2.out"; fail "--resume of a complete job computed chunks"; }
cmp "$out/logits.npy" "$ref" || fail "logits.npy changed"
echo "ok: --resume with another --chunk is refused by line; a complete job has nothing to do"

# ---- (d) refusals ------------------------------------------------------------------------------------
run --input "$tmp/in" > /dev/null 2> "$tmp/d1.err" && fail "a folder input without --output was accepted"
grep -q "needs --input and --output" "$tmp/d1.err" || { cat "$tmp/d1.err"; fail "no --output: wrong message"; }
run --input "$tmp/in/missing" --output "$tmp/d" --chunk 4 > /dev/null 2> "$tmp/d2.err" && fail "a missing input was accepted"
grep -q "^ppengine: $tmp/in/missing: cannot open: No such file" "$tmp/d2.err" || { cat "$tmp/d2.err"; fail "missing input: wrong message"; }
echo "ok: no --output and a missing input are refused"
echo "cli_chunked: all checks passed"
