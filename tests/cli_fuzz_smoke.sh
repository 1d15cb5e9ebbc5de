#!/usr/bin/env bash
# Fuzz replay (ctest): builds every libFuzzer target (tests/fuzz/build.sh,
# clang-14 + ASan + UBSan) into $PP_BINARY_DIR/fuzz, then runs each target once
# on every committed input: its corpus (tests/fuzz/corpus/<t>) and its crash
# regressions (tests/fuzz/regressions/<t>). Nothing is mutated, so the test
# answers the same every time; open-ended fuzzing is `make fuzz`
# (tests/fuzz/run.sh), whose findings are committed to those folders
# (docs/fuzzing.md). Any crash, leak, UBSan report, broken harness contract or
# out-of-memory input fails the test. Skipped (77) without clang-14.
set -uo pipefail
: "${PP_SOURCE_DIR:?}" "${PP_BINARY_DIR:?}"
# The fuzz targets carry their own sanitizers: run them from the plain build
# only, not again from each sanitizer build of the suite.
if [ -n "${PP_SANITIZE:-}" ]; then
    echo "SKIPPED: the fuzz replay belongs to the plain build"
    exit 77
fi
CC=${CC_FUZZ:-clang-14}
if ! command -v "$CC" > /dev/null; then
    echo "SKIPPED: $CC not found (the fuzz targets need clang's libFuzzer)"
    exit 77
fi
out="$PP_BINARY_DIR/fuzz"
if ! CC=$CC bash "$PP_SOURCE_DIR/tests/fuzz/build.sh" "$out"; then
    echo "FAIL: the fuzz targets do not build"
    exit 1
fi
mapfile -t targets < "$out/targets.txt"
jobs=$(nproc 2> /dev/null || echo 2)
[ "$jobs" -gt 4 ] && jobs=4

# Given files (not folders), libFuzzer runs each once and stops at the first
# failure. No -timeout: how long an input takes depends on the machine's load,
# and ctest's own TIMEOUT guards against a hang.
replay_one() {
    local t=$1 w="$out/replay/$1"
    rm -rf "$w"
    mkdir -p "$w"
    local files=()
    for f in "$PP_SOURCE_DIR/tests/fuzz/corpus/$t"/* "$PP_SOURCE_DIR/tests/fuzz/regressions/$t"/*; do
        [ -f "$f" ] && files+=("$f")
    done
    printf '%s\n' "${#files[@]}" > "$w/count"
    if [ ${#files[@]} -eq 0 ]; then
        echo 0 > "$w/rc"
        return
    fi
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$out/$t" -rss_limit_mb=2048 -timeout=0 "${files[@]}" > "$w/log" 2>&1
    echo $? > "$w/rc"
}

active=0
for t in "${targets[@]}"; do
    replay_one "$t" &
    active=$((active + 1))
    if [ "$active" -ge "$jobs" ]; then
        wait -n
        active=$((active - 1))
    fi
done
wait

fail=0
for t in "${targets[@]}"; do
    w="$out/replay/$t"
    rc=$(cat "$w/rc" 2> /dev/null || echo 1)
    want=$(cat "$w/count" 2> /dev/null || echo 0)
    ran=$(grep -c '^Executed ' "$w/log" 2> /dev/null)
    if [ "$rc" != 0 ]; then
        echo "FAIL: $t (exit $rc); log $w/log"
        grep -E 'Running:|ERROR|SUMMARY|runtime error|contract broken|#[0-9]+ 0x' "$w/log" | tail -20 | sed 's/^/    /'
        fail=1
    elif [ "${ran:-0}" != "$want" ]; then
        echo "FAIL: $t ran ${ran:-0} of its $want inputs; log $w/log"
        fail=1
    else
        echo "ok: $t: replayed $want committed inputs"
    fi
done
exit $fail
