#!/usr/bin/env bash
# Folders depend one way (docs/architecture.md):
#   converter -> engine -> loader -> include;  engine -> kernels -> include
# Every #include of a project header is resolved (next to the file, then from the
# root and include/, as the build's include path does) and its folder checked
# against what the including folder may use. An upward include fails, naming the
# file, the line and the header. Test machinery (tests/, profiling/) may use anything.
set -uo pipefail
: "${PP_SOURCE_DIR:?}"
cd "$PP_SOURCE_DIR"

# layer FILE: the folder a source belongs to, as the rules name it
layer() {
  case "$1" in
  include/*) echo include ;;
  loader/*) echo loader ;;
  kernels/*) echo kernels ;;
  engine/*) echo engine ;;
  converter/*) echo converter ;;
  serve/*) echo serve ;;
  examples/*) echo examples ;;
  *) echo any ;;
  esac
}
# allowed USER LAYER: 0 when folder USER may include from folder LAYER
allowed() {
  [ "$1" = "$2" ] && return 0
  case "$1:$2" in
  any:*) return 0 ;;
  loader:include | kernels:include) return 0 ;;
  engine:loader | engine:kernels | engine:include) return 0 ;;
  converter:engine | converter:loader | converter:kernels | converter:include) return 0 ;;
  # programs over the public API (and the loader's .npy reader for their files)
  serve:include | serve:loader | examples:include | examples:loader) return 0 ;;
  esac
  return 1
}

if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cu' '*.cuh' '*.cpp')
else
  mapfile -t files < <(find include loader kernels engine converter serve examples \( -name '*.c' -o -name '*.h' \
    -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' \) 2> /dev/null)
fi
bad=0
checked=0
for f in "${files[@]}"; do
  user=$(layer "$f")
  [ "$user" = any ] && continue
  dir=$(dirname "$f")
  while IFS=: read -r line inc; do
    target=
    for cand in "$dir/$inc" "$inc" "include/$inc"; do
      if [ -f "$cand" ]; then
        target=$(realpath --relative-to=. "$cand")
        break
      fi
    done
    [ -n "$target" ] || continue # a system header
    checked=$((checked + 1))
    if ! allowed "$user" "$(layer "$target")"; then
      echo "$f:$line: includes $target: $user/ may not include from $(layer "$target")/"
      bad=$((bad + 1))
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' "$f" |
    sed 's/^\([0-9]*\):[^"<]*["<]\([^">]*\)[">].*/\1:\2/')
done
if [ "$bad" -ne 0 ]; then
  echo "FAIL: $bad upward include(s)"
  exit 1
fi
echo "ok: $checked project includes in ${#files[@]} files, none upward"
