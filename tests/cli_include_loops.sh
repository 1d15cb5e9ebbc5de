#!/bin/sh
# No loops between modules (issue 14), folder by folder: a module is X.c with
# its face X.h; X depends on Y when X.c or X.h includes Y.h of the same folder
# (folders themselves depend one way: cli_layers.sh). tsort names any cycle.
#
# A module's internal header (X_internal.h, shared by the files of one module
# split by concern, like the ONNX importer's onnx*.c) belongs to module X.
set -u
src="${PP_SOURCE_DIR:-$(dirname "$0")/..}"
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
fails=0
for dir in converter engine engine/cli engine/cuda loader kernels/cpu kernels/cpu/fast serve; do
    : >"$edges"
    for f in "$src/$dir"/*.c "$src/$dir"/*.h; do
        [ -f "$f" ] || continue
        from=$(basename "${f%.*}")
        from="${from%_internal}"
        echo "$from $from" >>"$edges"
        sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r to; do
            to="${to%_internal}"
            [ "$to" = "$from" ] || echo "$from $to" >>"$edges"
        done
    done
    if ! out=$(tsort "$edges" 2>&1 >/dev/null) || [ -n "$out" ]; then
        echo "FAIL: $dir: modules include each other in a loop:"
        echo "$out" | grep -v "input contains a loop"
        fails=$((fails + 1))
    else
        echo "ok: $dir: $(cut -d' ' -f1 "$edges" | sort -u | wc -l) modules, no include loop"
    fi
done
[ "$fails" -eq 0 ]
