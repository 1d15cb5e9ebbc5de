#!/usr/bin/env bash
# Builds the fuzz targets, then fuzzes each for SECONDS (default 60), as many
# at once as there are cores, each on a scratch copy of its committed corpus
# (tests/fuzz/corpus/<target>) plus its regression inputs
# (tests/fuzz/regressions/<target>) with its dictionary. Crashes, leaks,
# timeouts (> 1 s) and out-of-memory inputs (> 2 GB) are written to
# tests/fuzz/crashes/ and fail the run.
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]          (make fuzz: 60 seconds)
#
# Environment: PP_FUZZ_BUILD (default build-fuzz), JOBS (parallel targets,
# default nproc), PP_FUZZ_KEEP_GOING=1 (fork mode: keep fuzzing after a crash,
# to collect several in one long run), PP_FUZZ_KEEP_CORPUS=1 (keep the grown
# corpora under $PP_FUZZ_BUILD/work/<target>/corpus).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${1:-60}
shift || true
build=${PP_FUZZ_BUILD:-$root/build-fuzz}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
jobs=${JOBS:-$(nproc 2> /dev/null || echo 2)}
crashes="$root/tests/fuzz/crashes"

bash "$root/tests/fuzz/build.sh" "$build" || { echo "run.sh: build failed" >&2; exit 1; }
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < "$build/targets.txt"; fi
mkdir -p "$crashes"

# The dictionary of a target: fuzz_onnx_tensor shares ONNX's, fuzz_torch pickle's.
dict_of() {
    case "$1" in
    fuzz_onnx_tensor) echo onnx ;;
    fuzz_torch) echo pickle ;;
    *) echo "${1#fuzz_}" ;;
    esac
}

run_one() {
    local t=$1 w="$build/work/$1"
    rm -rf "$w"
    mkdir -p "$w/corpus"
    touch "$w/stamp"
    cp -r "$root/tests/fuzz/corpus/$t/." "$w/corpus/" 2> /dev/null
    cp -r "$root/tests/fuzz/regressions/$t/." "$w/corpus/" 2> /dev/null
    local args=(-max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1
                -artifact_prefix="$crashes/$t-")
    local d="$root/tests/fuzz/$(dict_of "$t").dict"
    [ -e "$d" ] && args+=(-dict="$d")
    if [ "${PP_FUZZ_KEEP_GOING:-0}" = 1 ]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        "$build/$t" "${args[@]}" "$w/corpus" > "$w/log" 2>&1
    echo $? > "$w/rc"
    [ "${PP_FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$w/corpus"
}

before=$(ls "$crashes" 2> /dev/null | wc -l)
echo "run.sh: fuzzing ${#targets[@]} targets for ${secs}s each, $jobs at a time"
active=0
for t in "${targets[@]}"; do
    [ -x "$build/$t" ] || { echo "run.sh: no target $t in $build" >&2; exit 1; }
    run_one "$t" &
    active=$((active + 1))
    if [ "$active" -ge "$jobs" ]; then
        wait -n
        active=$((active - 1))
    fi
done
wait

fail=0
for t in "${targets[@]}"; do
    w="$build/work/$t"
    rc=$(cat "$w/rc" 2> /dev/null || echo 1)
    # Executions: "stat::number_of_executed_units: N" (or, in fork mode, the last "#N" line).
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
    [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$w/log" | tail -1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$w/log" | tail -1)
    # In fork mode crashes do not end the run: count the target's new artifacts.
    found=$(find "$crashes" -name "$t-*" -newer "$w/stamp" 2> /dev/null | wc -l)
    if [ "$rc" != 0 ] || [ "$found" -gt 0 ] ||
        grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*fuzz contract broken)' "$w/log"; then
        echo "FAIL $t: exit $rc, $found reproducer(s), after ${runs:-?} executions; log $w/log"
        grep -E 'ERROR|SUMMARY|contract broken|Test unit written' "$w/log" | head -5 | sed 's/^/    /'
        fail=1
    else
        echo "ok   $t: ${runs:-?} executions, ${cov:-cov: ?}"
    fi
done
after=$(ls "$crashes" 2> /dev/null | wc -l)
if [ "$after" -gt "$before" ]; then
    echo "run.sh: $((after - before)) new reproducer(s) in $crashes"
    fail=1
fi
exit $fail
