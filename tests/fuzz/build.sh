#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan
# into a folder (default build-fuzz): the library sources (loader, CPU kernels,
# engine, converter; no CUDA, OpenMP or OpenBLAS) are compiled once into
# libpp_fuzz.a and each target is linked against it. Objects are rebuilt only
# when a source or a header they include changed.
#
#   bash tests/fuzz/build.sh [OUTDIR]        CC=clang-15 to pick another clang
#
# PP_FUZZ_CFLAGS adds flags, e.g. -fno-sanitize=signed-integer-overflow to fuzz
# past a known, reported bug of that class (use a separate OUTDIR: objects are
# not rebuilt when only the flags change).
#
# Targets whose module is still being written (PP_FUZZ_OPTIONAL below) are
# skipped with a warning when they do not link; every other failure is an error.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-build-fuzz}
case "$out" in /*) ;; *) out="$root/$out" ;; esac
CC=${CC:-clang-14}
command -v "$CC" > /dev/null || { echo "build.sh: $CC not found" >&2; exit 2; }
jobs=${JOBS:-$(nproc 2> /dev/null || echo 2)}
mkdir -p "$out/obj"

# Same language and warnings as the CMake build (CMakeLists.txt), plus what a
# fuzz build needs. -fno-sanitize-recover makes every UBSan report a crash.
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-std=c11 -D_GNU_SOURCE -g -O1 $san -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter \
 -Wno-unknown-pragmas -Werror=implicit-function-declaration -I$root -I$root/include ${PP_FUZZ_CFLAGS:-}"
libs="-lm -lpthread"
# safetensors.c and the .pt2 importer parse JSON with cJSON (PP_HAVE_CJSON, as
# in the CMake build; without it they only refuse, and fuzz_pt2 is skipped).
if [ -e /usr/include/cjson/cJSON.h ]; then
    libs="$libs -lcjson"
    cflags="$cflags -DPP_HAVE_CJSON=1"
fi
PP_FUZZ_OPTIONAL=" fuzz_torch fuzz_safetensors fuzz_pt2 "

# An object is stale when it is missing or older than anything in its depfile.
stale() {
    local o=$1 d=${1%.o}.d
    [ -e "$o" ] && [ -e "$d" ] || return 0
    local f
    for f in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$d"); do
        [ "$f" -nt "$o" ] && return 0
    done
    return 1
}

srcs=()
for s in "$root"/loader/*.c "$root"/kernels/cpu/*.c "$root"/kernels/cpu/fast/*.c "$root"/engine/*.c "$root"/engine/nocuda/*.c "$root"/converter/*.c; do
    [ -e "$s" ] && srcs+=("$s")
done
todo=()
objs=()
for s in "${srcs[@]}"; do
    rel=${s#"$root"/}
    o="$out/obj/${rel//\//_}"
    o=${o%.c}.o
    objs+=("$o")
    if stale "$o"; then todo+=("$s"); fi
done
if [ ${#todo[@]} -gt 0 ]; then
    echo "build.sh: compiling ${#todo[@]} library sources with $CC ($jobs jobs)"
    export CC cflags out root
    # -fsanitize=fuzzer-no-link: coverage instrumentation without libFuzzer's main.
    printf '%s\n' "${todo[@]}" | xargs -P "$jobs" -I{} bash -c '
        s={}; rel=${s#"$root"/}; o="$out/obj/${rel//\//_}"; o=${o%.c}.o
        $CC $cflags -fsanitize=fuzzer-no-link -MMD -MF "${o%.o}.d" -c "$s" -o "$o"'
fi
lib="$out/libpp_fuzz.a"
# Re-archived when a source was compiled or one was added or removed.
printf '%s\n' "${objs[@]}" > "$out/objects.new"
if [ ${#todo[@]} -gt 0 ] || [ ! -e "$lib" ] || ! cmp -s "$out/objects.new" "$out/objects.txt"; then
    rm -f "$lib"
    ar rcs "$lib" "${objs[@]}"
    mv "$out/objects.new" "$out/objects.txt"
fi
rm -f "$out/objects.new"

built=()
for t in "$root"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    bin="$out/$name"
    if [ -e "$bin" ] && [ "$bin" -nt "$lib" ] && [ "$bin" -nt "$t" ] && [ "$bin" -nt "$root/tests/fuzz/fuzz_common.h" ]; then
        built+=("$name")
        continue
    fi
    if [[ "$PP_FUZZ_OPTIONAL" == *" $name "* ]]; then
        if ! $CC $cflags -fsanitize=fuzzer "$t" "$lib" $libs -o "$bin" 2> "$out/$name.log"; then
            echo "build.sh: warning: $name skipped: it does not build yet (see $out/$name.log)" >&2
            rm -f "$bin"
            continue
        fi
    else
        $CC $cflags -fsanitize=fuzzer "$t" "$lib" $libs -o "$bin"
    fi
    built+=("$name")
done
printf '%s\n' "${built[@]}" > "$out/targets.txt"
echo "build.sh: built ${#built[@]} targets in $out: ${built[*]}"
