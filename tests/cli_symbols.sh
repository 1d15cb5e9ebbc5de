#!/usr/bin/env bash
# Only the API leaves the libraries: `nm -D` of libppengine.so and libppconvert.so
# lists exactly the functions their public headers mark PP_API (ppengine.h and
# ppconvert.h), and libppengine.so holds no converter code at all (none of the
# functions the converter's archive defines, exported or not).
set -euo pipefail
: "${PP_BINARY_DIR:?}" "${PP_SOURCE_DIR:?}"
command -v nm > /dev/null || { echo "SKIPPED: no nm"; exit 77; }
fail=0

declared() { # the PP_API function names of a header
  sed -n 's/^PP_API[^(]*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' "$1" | sort -u
}
exported() { # the functions a shared library exports (toolchain symbols aside)
  nm -D --defined-only "$1" | awk '$2 ~ /^[TWi]$/ {print $3}' | grep -v '^_' | sort -u
}

check() {
  local lib=$PP_BINARY_DIR/$1 header=$PP_SOURCE_DIR/include/$2
  [ -f "$lib" ] || { echo "FAIL: $lib was not built"; fail=1; return; }
  local want got
  want=$(declared "$header")
  got=$(exported "$lib")
  [ -n "$want" ] || { echo "FAIL: no PP_API functions found in $header"; fail=1; return; }
  if [ "$want" != "$got" ]; then
    echo "FAIL: $1 exports differ from what $2 declares"
    diff <(echo "$want") <(echo "$got") | sed -n 's/^</    declared, not exported:/p; s/^>/    exported, not declared:/p'
    fail=1
  else
    echo "ok: $1 exports exactly the $(echo "$want" | wc -l) functions $2 declares"
  fi
}
check libppengine.so ppengine.h
check libppconvert.so ppconvert.h

# No converter code inside libppengine.so: the converter archive's global functions
# (its api.o aside, which is ppconvert.h) must not appear in the engine library.
conv=$(nm --defined-only "$PP_BINARY_DIR/libppconvert.a" 2> /dev/null | awk '$2 ~ /^[TW]$/ {print $3}' | sort -u)
eng=$(nm "$PP_BINARY_DIR/libppengine.so" 2> /dev/null | awk '{print $NF}' | sort -u)
both=$(comm -12 <(echo "$conv") <(echo "$eng") | grep -v '^_' || true)
if [ -n "$both" ]; then
  echo "FAIL: libppengine.so contains converter code:"
  echo "$both" | head -20 | sed 's/^/    /'
  fail=1
else
  echo "ok: libppengine.so contains none of the converter's $(echo "$conv" | wc -l) functions"
fi
exit $fail
