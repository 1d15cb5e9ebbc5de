#!/bin/sh
# No loops between the converter's modules (issue 14): a module is X.c with
# its face X.h; X depends on Y when X.c or X.h includes Y.h. tsort names any
# cycle.
#
# SKIP: modules left out of the graph, each a loop still being split on
# another branch: onnx_internal.h is shared by onnx.c and onnx_ops.c, which
# call each other (the ONNX importer's split, issue 14 point 4).
set -u
SKIP=" onnx_internal "
src="${PP_SOURCE_DIR:-$(dirname "$0")/..}"
cd "$src/converter" || exit 1
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in *.c *.h; do
    from="${f%.*}"
    case "$SKIP" in *" $from "*) continue ;; esac
    echo "$from $from" >>"$edges"
    sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r to; do
        case "$SKIP" in *" $to "*) continue ;; esac
        [ "$to" = "$from" ] || echo "$from $to" >>"$edges"
    done
done
if ! out=$(tsort "$edges" 2>&1 >/dev/null) || [ -n "$out" ]; then
    echo "converter modules include each other in a loop:"
    echo "$out" | grep -v "input contains a loop"
    exit 1
fi
echo "converter: $(cut -d' ' -f1 "$edges" | sort -u | wc -l) modules, no include loop"
