#!/usr/bin/env bash
# Fuzz smoke test (ctest): builds every libFuzzer target (tests/fuzz/build.sh,
# clang-14 + ASan + UBSan) into $PP_BINARY_DIR/fuzz, then for each target
# replays its committed corpus and regression inputs (tests/fuzz/corpus/<t>,
# tests/fuzz/regressions/<t>) and fuzzes ~5 seconds more. Any crash, leak,
# UBSan report, broken harness contract, timeout or OOM fails the test; the
# reproducer is left in $PP_BINARY_DIR/fuzz/crashes. Skipped (77) without
# clang-14. About a minute on 2 cores once the library objects are built.
#
#   PP_FUZZ_SMOKE_SECONDS=N   fuzz N seconds per target instead of 5
set -uo pipefail
: "${PP_SOURCE_DIR:?}" "${PP_BINARY_DIR:?}"
# The fuzz targets carry their own sanitizers: run them from the plain build
# only, not again from each sanitizer build of the suite.
if [ -n "${PP_SANITIZE:-}" ]; then
    echo "SKIPPED: the fuzz smoke run belongs to the plain build"
    exit 77
fi
CC=${CC_FUZZ:-clang-14}
if ! command -v "$CC" > /dev/null; then
    echo "SKIPPED: $CC not found (the fuzz targets need clang's libFuzzer)"
    exit 77
fi
secs=${PP_FUZZ_SMOKE_SECONDS:-5}
out="$PP_BINARY_DIR/fuzz"
crashes="$out/crashes"
if ! CC=$CC bash "$PP_SOURCE_DIR/tests/fuzz/build.sh" "$out"; then
    echo "FAIL: the fuzz targets do not build"
    exit 1
fi
mapfile -t targets < "$out/targets.txt"
mkdir -p "$crashes"
jobs=$(nproc 2> /dev/null || echo 2)
[ "$jobs" -gt 4 ] && jobs=4

dict_of() {
    case "$1" in
    fuzz_onnx_tensor) echo onnx ;;
    fuzz_torch) echo pickle ;;
    *) echo "${1#fuzz_}" ;;
    esac
}

smoke_one() {
    local t=$1 w="$out/smoke/$1"
    rm -rf "$w"
    mkdir -p "$w/corpus"
    cp -r "$PP_SOURCE_DIR/tests/fuzz/corpus/$t/." "$w/corpus/" 2> /dev/null
    cp -r "$PP_SOURCE_DIR/tests/fuzz/regressions/$t/." "$w/corpus/" 2> /dev/null
    local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                -artifact_prefix="$crashes/$t-")
    local d="$PP_SOURCE_DIR/tests/fuzz/$(dict_of "$t").dict"
    [ -e "$d" ] && args+=(-dict="$d")
    # The scratch corpus is replayed in full before fuzzing starts (INITED).
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$out/$t" "${args[@]}" "$w/corpus" > "$w/log" 2>&1
    echo $? > "$w/rc"
}

active=0
for t in "${targets[@]}"; do
    smoke_one "$t" &
    active=$((active + 1))
    if [ "$active" -ge "$jobs" ]; then
        wait -n
        active=$((active - 1))
    fi
done
wait

fail=0
for t in "${targets[@]}"; do
    w="$out/smoke/$t"
    rc=$(cat "$w/rc" 2> /dev/null || echo 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
    seeds=$(ls "$w/corpus" | wc -l)
    if [ "$rc" != 0 ]; then
        echo "FAIL: $t (exit $rc); log $w/log"
        grep -E 'ERROR|SUMMARY|runtime error|contract broken|Test unit written|#[0-9]+ 0x' "$w/log" | head -20 |
            sed 's/^/    /'
        fail=1
    else
        echo "ok: $t: replayed the corpus and ran ${runs:-?} inputs in ${secs}s ($seeds in the corpus now)"
    fi
done
rm -rf "$out/smoke"/*/corpus
exit $fail
