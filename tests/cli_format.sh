#!/usr/bin/env bash
# Formatting: every tracked C, CUDA and C++ source matches .clang-format (which
# settles layout, so reviews never argue about it). Skipped (77) without
# clang-format. To fix: clang-format -i FILE, or the whole tree:
#   git ls-files '*.c' '*.h' '*.cu' '*.cuh' '*.cpp' | xargs clang-format -i
set -uo pipefail
: "${PP_SOURCE_DIR:?}"
CF=${CLANG_FORMAT:-}
for c in clang-format clang-format-14 clang-format-15 clang-format-16; do
  [ -n "$CF" ] && break
  command -v "$c" > /dev/null && CF=$c
done
[ -n "$CF" ] || { echo "SKIPPED: clang-format not found"; exit 77; }
cd "$PP_SOURCE_DIR"
if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cu' '*.cuh' '*.cpp')
else
  mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' \) -print)
fi
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$CF" --dry-run -Werror "$f" > /dev/null 2>&1; then
    echo "not formatted: $f (run: $CF -i $f)"
    bad=$((bad + 1))
  fi
done
if [ "$bad" -ne 0 ]; then
  echo "FAIL: $bad of ${#files[@]} files differ from .clang-format"
  exit 1
fi
echo "ok: ${#files[@]} files match .clang-format ($("$CF" --version | head -1))"
