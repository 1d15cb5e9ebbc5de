#!/usr/bin/env bash
# ppengine run across MPI ranks on this machine (Open MPI over shared memory, no
# network), checked against one plain `ppengine run` over the same items:
#  (a) 2 ranks over one .npy: the same logits.npy byte for byte, every chunk
#      recorded once, the progress line, the per-rank summary, one trace with a
#      process per rank;
#  (b) 4 ranks over a folder of 5 .npy files (chunks cut across their borders),
#      each rank running 2 stages x 2 replicas: the same logits.npy;
#  (c) kill -9 of rank 2 once chunks are recorded: the job fails, mpirun naming
#      the rank (and rank 0, when it can, saying the record is kept);
#      --resume, killed again at rank 0; --resume to the end: only the chunks
#      not recorded are computed, nothing is recorded twice, no temporary is
#      left, and logits.npy is the same;
#  (d) a rank (0 or another) that cannot open its input, one whose graph.bin is
#      damaged, one with another graph.bin: the job stops with that rank's message.
# Skipped (77) where ppengine was built without MPI (after checking that --mpi
# says so) or mpirun is missing. Every mpirun runs under `timeout`.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done
tmp=$(mktemp -d /tmp/pp_cli_mpi.XXXXXX)
job=
cleanup() {
  [ -n "$job" ] && kill -KILL "$job" 2> /dev/null || true
  [ -n "${PP_KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

digits=$PP_SOURCE_DIR/examples/digits
graph=$tmp/digits.bin
timeout 60 "$PPCONVERT" "$digits/digits.onnx" -o "$graph" > /dev/null

if "$PPENGINE" run "$graph" --mpi --input "$digits/test_x.npy" --output "$tmp/x" > /dev/null 2> "$tmp/nompi.err"; then
  :
elif grep -q "built without MPI" "$tmp/nompi.err"; then
  echo "SKIPPED: ppengine was built without MPI (and --mpi says so)"
  exit 77
fi
command -v mpirun > /dev/null || { echo "SKIPPED: no mpirun"; exit 77; }
command -v timeout > /dev/null || { echo "SKIPPED: no timeout(1)"; exit 77; }

# Open MPI as root, in a sandbox without a network: shared memory between the
# ranks of this one node, no ssh, no single-copy kernel help (ptrace may be off).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm_rsh_agent=false
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
# Open MPI's own allocations outlive MPI_Finalize: under AddressSanitizer,
# LeakSanitizer is told to ignore those libraries, through stacks unwound
# slowly enough to name them (this test only; tests/support/lsan_openmpi.supp).
export LSAN_OPTIONS="suppressions=$PP_SOURCE_DIR/tests/support/lsan_openmpi.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
mpi() { # RANKS ARGS...: ppengine run on RANKS ranks, bounded
  local n=$1
  shift
  timeout -k 5 300 mpirun --oversubscribe -n "$n" "$PPENGINE" run --deterministic "$@"
}

# Ranks run chunks of other sizes on fewer threads: --deterministic promises their bytes.
timeout 60 "$PPENGINE" run "$graph" --input "$digits/test_x.npy" --output "$tmp/ref" --devices cpu --deterministic --quiet
ref=$tmp/ref/logits.npy
items=540

# check_done OUT CHUNKS: every chunk recorded exactly once, the record complete,
# no chunk file or temporary left.
check_done() {
  local m=$1/chunks/manifest
  [ "$(grep -c '^done ' "$m")" -eq "$2" ] || fail "$m records $(grep -c '^done ' "$m") chunks, want $2"
  [ "$(awk '/^done /{print $2}' "$m" | sort -u | wc -l)" -eq "$2" ] || fail "$m records a chunk twice"
  grep -qx complete "$m" || fail "$m does not say complete"
  if compgen -G "$1/chunks/c*" > /dev/null || compgen -G "$1/*.tmp.*" > /dev/null; then
    fail "chunk files or temporaries left: $(ls "$1" "$1/chunks")"
  fi
}

# ---- (a) 2 ranks ----------------------------------------------------------------------
mpi 2 "$graph" --input "$digits/test_x.npy" --output "$tmp/a" --devices cpu --chunk 7 --trace "$tmp/a.json" \
  > "$tmp/a.out" 2> "$tmp/a.err" || { cat "$tmp/a.out" "$tmp/a.err"; fail "2 ranks failed"; }
cmp "$tmp/a/logits.npy" "$ref" || fail "2 ranks: logits.npy differs from one process"
check_done "$tmp/a" 78
grep -Eq "^ppengine: $items/$items items +[0-9.]+ items/s +ETA 0:00:00$" "$tmp/a.err" ||
  { cat "$tmp/a.err"; fail "no final progress line"; }
for r in 0 1; do
  grep -Eq "^$r +[^ ]+ +[0-9]+ +[0-9]+ +[0-9.]+% +[0-9.]+% +[0-9.]+$" "$tmp/a.out" || { cat "$tmp/a.out"; fail "no summary row for rank $r"; }
done
[ "$(awk '/^all/{print $3}' "$tmp/a.out")" -eq $items ] || { cat "$tmp/a.out"; fail "the summary does not add up to $items items"; }
if command -v python3 > /dev/null; then
  python3 - "$tmp/a.json" << 'EOF' || fail "the merged trace is not one process per rank"
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {e["pid"]: e["args"]["name"] for e in ev if e.get("name") == "process_name"}
assert sorted(names) == [0, 1], names
assert all(names[r].startswith("rank %d" % r) for r in names), names
chunks = [e for e in ev if e.get("cat") == "chunk" and e["name"].startswith("chunk ")]
assert sorted(int(e["name"].split()[1]) for e in chunks) == list(range(78)), len(chunks)
assert any(e.get("cat") == "compute" for e in ev), "no engine spans"
EOF
fi
echo "ok: 2 ranks write the same logits.npy as one process; progress, summary and a trace per rank"

# ---- (b) 4 ranks over a folder ------------------------------------------------------------
# npy_slice FIRST COUNT DST: items [FIRST, FIRST+COUNT) of test_x.npy as an .npy
# of its own: the same header with axis 0 rewritten (padded to its length).
src=$digits/test_x.npy
hl=$((10 + $(od -An -tu2 -j8 -N2 "$src" | tr -d ' ')))
isz=$((($(stat -c %s "$src") - hl) / items))
npy_slice() {
  local pad
  pad=$(printf '%*s' $((${#items} - ${#2})) '')
  head -c "$hl" "$src" | LC_ALL=C sed "s/($items, /($2, $pad/" > "$3"
  dd if="$src" iflag=skip_bytes,count_bytes skip=$((hl + $1 * isz)) count=$(($2 * isz)) bs=64K status=none >> "$3"
}
mkdir "$tmp/in"
first=0
k=0
for n in 100 1 200 39 200; do
  npy_slice $first $n "$tmp/in/part$k.npy"
  first=$((first + n))
  k=$((k + 1))
done
mpi 4 "$graph" --input "$tmp/in" --output "$tmp/b" --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --chunk 16 \
  > "$tmp/b.out" 2> "$tmp/b.err" || { cat "$tmp/b.out" "$tmp/b.err"; fail "4 ranks over a folder failed"; }
cmp "$tmp/b/logits.npy" "$ref" || fail "4 ranks over a folder: logits.npy differs from one process"
# 100, 1, 200, 39, 200 items in chunks of 16: 7 + 1 + 13 + 3 + 13
check_done "$tmp/b" 37
grep -q "540 items in 5 files, 37 chunks" "$tmp/b.out" || { cat "$tmp/b.out"; fail "4 ranks: no start line"; }
echo "ok: 4 ranks of 2 stages x 2 replicas over 5 files write the same logits.npy"

# ---- (c) kill -9 a rank, resume ------------------------------------------------------------
out=$tmp/c
man=$out/chunks/manifest
recorded() {
  local n
  n=$(grep -c '^done ' "$man" 2> /dev/null) || true
  echo "${n:-0}"
}
# rank_pid RANK: the pid of rank RANK among the job's descendants (timeout ->
# mpirun -> ranks), found by the rank number in its environment.
rank_pid() {
  local todo=("$job") p
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}
    todo=("${todo[@]:1}")
    if grep -qzx "OMPI_COMM_WORLD_RANK=$1" "/proc/$p/environ" 2> /dev/null; then
      echo "$p"
      return 0
    fi
    todo+=($(cat /proc/"$p"/task/*/children 2> /dev/null))
  done
  return 1
}
# kill_rank_after RANK N LOG: once the manifest records N chunks, SIGKILL rank
# RANK; then the job must fail, rank 0 (when alive) saying how to resume.
kill_rank_after() {
  local i p rc
  for ((i = 0; i < 6000; i++)); do # polls every 10 ms, 60 s at most
    [ "$(recorded)" -ge "$2" ] && break
    kill -0 "$job" 2> /dev/null || { cat "$3"; fail "the job ended before $2 chunks were recorded"; }
    sleep 0.01
  done
  p=$(rank_pid "$1") || fail "rank $1 not found"
  kill -0 "$job" 2> /dev/null || { cat "$3"; fail "the job ended before rank $1 was killed"; }
  kill -KILL "$p"
  set +e
  wait "$job"
  rc=$?
  set -e
  job=
  [ "$rc" -ne 0 ] || fail "the job whose rank $1 was killed exited 0"
  [ "$rc" -ne 124 ] || fail "the job hung after rank $1 was killed"
  grep -q "rank $1 with PID .* exited on signal 9" "$3" || { cat "$3"; fail "mpirun does not name rank $1's death"; }
  # Rank 0's own word (that the record is kept, and --resume) is best effort:
  # the launcher's SIGKILL may follow its SIGTERM before rank 0 runs again.
  if grep -q "rank 0 stopped" "$3"; then
    grep -q "ppengine: rank 0 stopped by a signal .* run the same command with --resume" "$3" ||
      { cat "$3"; fail "rank 0's message does not say how to resume"; }
  fi
  [ ! -e "$out/logits.npy" ] || fail "a killed job wrote logits.npy"
}
mpi 4 "$graph" --input "$src" --output "$out" --devices cpu --chunk 2 --throttle-ms 30 > "$tmp/c1.out" 2> "$tmp/c1.err" &
job=$!
kill_rank_after 2 6 "$tmp/c1.err"
n1=$(recorded)
echo "ok: rank 2 killed with $n1 of 270 chunks recorded; the job failed and said so"
mpi 4 "$graph" --input "$src" --output "$out" --devices cpu --chunk 2 --throttle-ms 30 --resume \
  > "$tmp/c2.out" 2> "$tmp/c2.err" &
job=$!
kill_rank_after 0 $((n1 + 6)) "$tmp/c2.err"
grep -q "resuming: $n1 of 270 chunks are recorded" "$tmp/c2.err" || { cat "$tmp/c2.err"; fail "resume 1 did not start at $n1"; }
echo "ok: resumed at $n1, then rank 0 killed"
mpi 4 "$graph" --input "$src" --output "$out" --devices cpu --chunk 2 --resume > "$tmp/c3.out" 2> "$tmp/c3.err" ||
  { cat "$tmp/c3.out" "$tmp/c3.err"; fail "the last resume failed"; }
n2=$(sed -n 's/^ppengine: resuming: \([0-9]*\) of 270 chunks are recorded$/\1/p' "$tmp/c3.err")
[ -n "$n2" ] && [ "$n2" -gt "$n1" ] || { cat "$tmp/c3.err"; fail "the last resume did not build on the second run"; }
[ "$(awk '/^all/{print $2}' "$tmp/c3.out")" -eq $((270 - n2)) ] ||
  { cat "$tmp/c3.out"; fail "the last resume computed other than the $((270 - n2)) missing chunks"; }
cmp "$out/logits.npy" "$ref" || fail "the resumed job's logits.npy differs from one process"
check_done "$out" 270
echo "ok: the last resume computed only the $((270 - n2)) missing chunks; logits.npy is the same; nothing twice"

# ---- (d) a rank that cannot start ------------------------------------------------------------
# mpmd LOG ARGS_RANK0 -- ARGS_RANK1: two ranks with their own arguments; must fail.
mpmd() {
  local log=$1 a=() b=()
  shift
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  b=("$@")
  set +e
  timeout -k 5 120 mpirun --oversubscribe -n 1 "$PPENGINE" run "${a[@]}" : -n 1 "$PPENGINE" run "${b[@]}" \
    > /dev/null 2> "$log"
  local rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "a job with a broken rank exited 0"
  [ "$rc" -ne 124 ] || fail "a job with a broken rank hung"
}
common=(--output "$tmp/d" --devices cpu --chunk 16)
mpmd "$tmp/d1.err" "$graph" --input "$src" "${common[@]}" -- "$graph" --input "$tmp/missing.npy" "${common[@]}"
grep -q "^ppengine: rank 1 ([^)]*): $tmp/missing.npy: cannot open: No such file" "$tmp/d1.err" ||
  { cat "$tmp/d1.err"; fail "no message naming rank 1 and its missing input"; }
mpmd "$tmp/d0.err" "$graph" --input "$tmp/missing.npy" "${common[@]}" -- "$graph" --input "$src" "${common[@]}"
grep -q "^ppengine: rank 0 ([^)]*): $tmp/missing.npy: cannot open: No such file" "$tmp/d0.err" ||
  { cat "$tmp/d0.err"; fail "no message naming rank 0 and its missing input"; }
[ "$(grep -c '^ppengine: rank' "$tmp/d0.err")" -eq 1 ] || { cat "$tmp/d0.err"; fail "rank 0's failure is reported for other ranks too"; }
head -c 1000 "$graph" > "$tmp/cut.bin"
mpmd "$tmp/d2.err" "$graph" --input "$src" "${common[@]}" -- "$tmp/cut.bin" --input "$src" "${common[@]}"
grep -q "^ppengine: rank 1 ([^)]*): .*cut.bin" "$tmp/d2.err" ||
  { cat "$tmp/d2.err"; fail "no message naming rank 1 and its damaged graph.bin"; }
timeout 60 "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/models/mlp.onnx" -o "$tmp/other.bin" > /dev/null
mpmd "$tmp/d3.err" "$graph" --input "$src" "${common[@]}" -- "$tmp/other.bin" --input "$src" "${common[@]}"
grep -q "^ppengine: rank 1 ([^)]*) loaded $tmp/other.bin with checksum [0-9a-f]*, but rank 0 loaded $graph" \
  "$tmp/d3.err" || { cat "$tmp/d3.err"; fail "a different graph.bin on rank 1 is not refused by name"; }
[ ! -e "$tmp/d/logits.npy" ] || fail "a refused job wrote logits.npy"
echo "ok: a missing input (rank 0 or 1), a damaged and a different graph.bin stop the job with that rank's message"
echo "cli_mpi: all checks passed"
