#!/usr/bin/env bash
# run.sh: the CUDA backend's custom kernels checked on a machine without a GPU.
#
#   bash tests/emu/run.sh BUILD_DIR [ops|models|all] [FILTER]
#
# FILTER: run only the cases (models) whose name contains it; for ops "a,b" means either.
#
# Each kernels/cuda/*.cu is rewritten (transform.py: k<<<g, b, smem, s>>>(args)
# becomes an emulated launch; __shared__ becomes static storage) and compiled as
# host C++ against emu.h, which runs every CUDA thread of a block as a std::thread
# with real barriers for __syncthreads and per-warp barriers for __shfl_xor_sync,
# blocks one after another, grids capped at 3×2 (every kernel is grid-stride, so
# the loops are exercised too). emu_backend.c is a "cuda" backend on host memory
# that launches those kernels the way engine/cuda does. tests/gpu_ops.c (with tests/gpu_ops/) and tests/gpu_models.c
# then run unchanged against it (gpu_ops --device emu; gpu_models with one
# emulated device), linked with BUILD_DIR/libppengine.a for everything else.
# engine/cuda/gemm_lt.c runs for real against mock_cublaslt.c (a host cuBLASLt
# that computes from the descriptors and checks the declared alignments), and
# engine/cuda/conv_cudnn.c against mock_cudnn.c (legacy convolution on the host).
#
# Capture is emulated as a recorded launch list replayed in order, so the
# executor's graph path runs with the emulated kernels. Not covered: the real
# cuBLASLt and cuDNN, the runtime calls in engine/cuda/backend_cuda.c, real CUDA
# graphs — those need the GPU (device-check.sh).
# Slow (a thread per CUDA thread): minutes, not seconds. PP_EMU_WORK=DIR keeps
# the compiled objects for the next run.
set -eu
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [ops|models|all] [FILTER]}" && pwd)
WHAT=${2:-all}
FILTER=${3:-}
CUDA_INC=${CUDA_INC:-/usr/local/cuda/include}
# PP_EMU_WORK=DIR keeps the objects there between runs and rebuilds only what
# changed (for iterating on a kernel); by default a temporary folder.
if [ -n "${PP_EMU_WORK:-}" ]; then
  mkdir -p "$PP_EMU_WORK"
  W=$(cd "$PP_EMU_WORK" && pwd)
else
  W=$(mktemp -d "${TMPDIR:-/tmp}/pp-emu.XXXXXX")
  trap 'rm -rf "$W"' EXIT
fi
# The host half of the engine: libppengine_host.a where the build has CUDA (the
# full library would bring the real backend), libppengine.a in a CPU-only build.
LIB=$BUILD/libppengine_host.a
[ -f "$LIB" ] || LIB=$BUILD/libppengine.a
[ -f "$LIB" ] || { echo "run.sh: no $BUILD/libppengine_host.a or libppengine.a (build ppengine_host or ppengine_static)"; exit 1; }
CXXF=(-std=c++20 -O1 -w -I"$HERE" -I"$ROOT/kernels/cuda" -I"$ROOT" -I"$ROOT/include" -I"$CUDA_INC")
CF=(-std=c11 -D_GNU_SOURCE -O1 -g -w -I"$ROOT" -I"$ROOT/include" -I"$CUDA_INC" -DPP_SOURCE_DIR="\"$ROOT\"")
# Headers every object may include: a change to one rebuilds everything.
HEADERS=$(ls "$ROOT"/kernels/*.h "$ROOT"/kernels/cuda/*.h "$ROOT"/kernels/cuda/*.cuh "$ROOT"/engine/*.h \
  "$ROOT"/engine/cuda/*.h "$HERE"/*.h)
stale() { # stale OUT SRC: OUT is missing or older than SRC or a header
  [ -f "$1" ] || return 0
  for h in "$2" $HEADERS; do [ "$h" -nt "$1" ] && return 0; done
  return 1
}
objs=()
for f in "$ROOT"/kernels/cuda/*.cu; do
  b=$(basename "$f" .cu)
  objs+=("$W/$b.o")
  stale "$W/$b.o" "$f" || continue
  ( python3 "$HERE/transform.py" "$f" > "$W/$b.emu.cpp" && g++ "${CXXF[@]}" -c "$W/$b.emu.cpp" -o "$W/$b.o" ) &
done
for f in "$HERE/emu.cpp" "$HERE/cuda_stubs.cpp"; do
  b=$(basename "$f" .cpp)
  objs+=("$W/$b.o")
  stale "$W/$b.o" "$f" && g++ "${CXXF[@]}" -c "$f" -o "$W/$b.o" &
done
# engine/cuda's library paths run for real, against the mocks
for f in "$HERE"/emu_backend.c "$HERE"/mock_*.c "$ROOT"/engine/cuda/{gemm_lt,conv_cudnn,dnn_graph,tune_cache,tuning}.c; do
  b=$(basename "$f" .c)
  objs+=("$W/$b.o")
  stale "$W/$b.o" "$f" && gcc "${CF[@]}" -c "$f" -o "$W/$b.o" &
done
stale "$W/gpu_models.o" "$ROOT/tests/gpu_models.c" &&
  gcc "${CF[@]}" -c "$ROOT/tests/gpu_models.c" -o "$W/gpu_models.o" &
# gpu_ops.c with its harness and case tables (tests/gpu_ops/), each rebuilt when harness.h changes
ops_objs=()
for f in "$ROOT"/tests/gpu_ops.c "$ROOT"/tests/gpu_ops/*.c; do
  b=$(basename "$f" .c)
  [ "$b" = gpu_ops ] || b=gpu_ops_$b
  ops_objs+=("$W/$b.o")
  { stale "$W/$b.o" "$f" || stale "$W/$b.o" "$ROOT/tests/gpu_ops/harness.h"; } || continue
  gcc "${CF[@]}" -c "$f" -o "$W/$b.o" &
done
wait
LIBS=("$LIB" -lm -lpthread)
# the archive's CPU kernels may want OpenMP and OpenBLAS
LIBS+=(-fopenmp)
[ -n "$(ls /usr/lib/*/libopenblas.so 2>/dev/null)" ] && LIBS+=(-lopenblas)
rc=0
if [ "$WHAT" = ops ] || [ "$WHAT" = all ]; then
  g++ -o "$W/emu_ops" "${ops_objs[@]}" "${objs[@]}" "${LIBS[@]}"
  "$W/emu_ops" --device emu ${FILTER:+"$FILTER"} || rc=1
fi
if [ "$WHAT" = models ] || [ "$WHAT" = all ]; then
  g++ -o "$W/emu_models" "$W/gpu_models.o" "${objs[@]}" "${LIBS[@]}"
  PP_EMU_DEVICES=1 PPCONVERT="$BUILD/ppconvert" "$W/emu_models" ${FILTER:+"$FILTER"} || rc=1
fi
exit $rc
