#!/usr/bin/env bash
# make install works and is usable: install the build into a temporary prefix,
# build the examples against it with find_package(ppengine) (CMake) and with
# pkg-config, and run one of each; a program built with pkg-config ppconvert
# converts a model through libppconvert and runs it through libppengine.
set -euo pipefail
: "${PP_BINARY_DIR:?}" "${PP_SOURCE_DIR:?}"
# A sanitizer build's library needs its runtime linked first into every program;
# the package is checked by the plain build.
[ -z "${PP_SANITIZE:-}" ] || { echo "SKIPPED: sanitizer build ($PP_SANITIZE)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$PP_BINARY_DIR" --prefix "$tmp/prefix" > /dev/null
for f in bin/ppengine bin/ppconvert include/ppengine.h include/ppconvert.h include/ppformat.h \
         lib/cmake/ppengine/ppengineConfig.cmake lib/pkgconfig/ppengine.pc lib/pkgconfig/ppconvert.pc; do
  [ -e "$tmp/prefix/$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done
ls "$tmp/prefix"/lib/libppengine.so* "$tmp/prefix"/lib/libppconvert.so* > /dev/null
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

  # libppconvert: convert, then load and run what was written
  cat > "$tmp/conv.c" <<'C'
#include <ppconvert.h>
#include <stdio.h>
#include <stdlib.h>
static int fail(pp_status *st) { fprintf(stderr, "%s\n", pp_status_message(st)); pp_status_free(st); return 1; }
int main(int argc, char **argv) {
    pp_converter *c;
    pp_status *st = pp_converter_create(&c);
    if (!st) st = pp_converter_set(c, "dtype", "f16");
    if (!st) st = pp_converter_run(c, argv[1], argv[2]);
    pp_converter_free(c);
    if (st) return fail(st);
    pp_net *net;
    if ((st = pp_net_load(argv[2], &net))) return fail(st);
    printf("converted: %d input(s), %d output(s), ppconvert %s\n", pp_net_input_count(net), pp_net_output_count(net),
           pp_converter_version());
    pp_net_free(net);
    /* a bad setting is refused with a status, not a crash */
    if (pp_converter_create(&c)) return 1;
    st = pp_converter_set(c, "dtype", "f8");
    pp_converter_free(c);
    if (!st || pp_status_get_code(st) != PP_STATUS_INVALID_ARGUMENT) return 1;
    pp_status_free(st);
    return 0;
}
C
  cc -std=c11 -Wall -Werror "$tmp/conv.c" $(pkg-config --cflags --libs ppconvert) -o "$tmp/conv"
  "$tmp/conv" "$PP_SOURCE_DIR/examples/digits/digits.onnx" "$tmp/digits16.bin" | grep -q "converted: 1 input(s), 1 output(s)"
  "$tmp/prefix/bin/ppengine" run "$tmp/digits16.bin" --input "$PP_SOURCE_DIR/examples/digits/test_x.npy" \
    --output "$tmp/ref16" --devices cpu --quiet
  echo "ok: a program built with pkg-config ppconvert converts a model that libppengine then runs"
fi
