#!/usr/bin/env bash
# make install works and is usable: install the build into a temporary prefix,
# build the examples against it with find_package(ppengine) (CMake) and with
# pkg-config, and run one of each.
set -euo pipefail
: "${PP_BINARY_DIR:?}" "${PP_SOURCE_DIR:?}"
# A sanitizer build's library needs its runtime linked first into every program;
# the package is checked by the plain build.
[ -z "${PP_SANITIZE:-}" ] || { echo "SKIPPED: sanitizer build ($PP_SANITIZE)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$PP_BINARY_DIR" --prefix "$tmp/prefix" > /dev/null
for f in bin/ppengine bin/ppconvert include/ppengine.h include/ppformat.h lib/libppengine.a \
         lib/cmake/ppengine/ppengineConfig.cmake lib/pkgconfig/ppengine.pc; do
  [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done
ls "$tmp/prefix"/lib/libppengine.so* > /dev/null
export LD_LIBRARY_PATH="$tmp/prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# CMake package
cmake -S "$PP_SOURCE_DIR/examples" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release > "$tmp/cfg.log" 2>&1 ||
  { cat "$tmp/cfg.log"; exit 1; }
cmake --build "$tmp/ex" -j 2 > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
"$tmp/prefix/bin/ppconvert" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o "$tmp/digits.bin" > /dev/null
"$tmp/ex/ppbatch" "$tmp/digits.bin" "$PP_SOURCE_DIR/examples/digits/test_x.npy" "$tmp/out.npy" --devices cpu 2> /dev/null
"$tmp/prefix/bin/ppengine" run "$tmp/digits.bin" --input "$PP_SOURCE_DIR/examples/digits/test_x.npy" \
  --output "$tmp/ref" --devices cpu --quiet
cmp "$tmp/out.npy" "$tmp/ref/logits.npy"
echo "ok: examples built with find_package(ppengine) run against the installed library"

# pkg-config
if command -v pkg-config > /dev/null; then
  export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
  cat > "$tmp/hello.c" <<'C'
#include <ppengine.h>
#include <stdio.h>
int main(void) { printf("ppengine %s\n", pp_version()); return 0; }
C
  cc -std=c11 "$tmp/hello.c" $(pkg-config --cflags --libs ppengine) -o "$tmp/hello"
  "$tmp/hello" | grep -q "ppengine 0.1.0"
  echo "ok: a program built with pkg-config ppengine runs"
fi
