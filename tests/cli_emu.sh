#!/usr/bin/env bash
# The CUDA backend without a GPU, in every `make test` of a build with CUDA:
# tests/emu/run.sh compiles the real kernels (kernels/cuda/*.cu) as host
# C++ that runs every CUDA thread, links them with engine/cuda's cuBLASLt and
# cuDNN glue against host mocks of those libraries, and runs tests/gpu_ops'
# table against the CPU kernels. This is the part that changes most and that no
# other CI test reaches: the fp16/bf16 precision cases, graph capture and
# replay, convolutions (NHWC in 16 bits) and GEMMs (also where cuBLASLt offers no
# fused epilogue), the planner's formats (16-bit NHWC convolutions through the
# mocked cuDNN graph API, every fallback), attention, and one model end to end.
# The whole table and every model: `bash tests/emu/run.sh build all` (tens of
# minutes on two cores).
#
# Environment (set by ctest): PP_SOURCE_DIR, PP_BINARY_DIR. Exit 77 when the build
# has no CUDA (no libppengine_host.a) or the host compilers are missing.
set -u
: "${PP_SOURCE_DIR:?}" "${PP_BINARY_DIR:?}"
[ -f "$PP_BINARY_DIR/libppengine_host.a" ] || { echo "SKIPPED: this build has no CUDA backend"; exit 77; }
for t in g++ gcc python3; do
  command -v "$t" > /dev/null || { echo "SKIPPED: no $t"; exit 77; }
done
[ -f "${CUDA_INC:-/usr/local/cuda/include}/cuda_runtime.h" ] || { echo "SKIPPED: no CUDA headers"; exit 77; }
# objects kept in the build folder: the second call and later runs rebuild only what changed
export PP_EMU_WORK="$PP_BINARY_DIR/emu-work"
bash "$PP_SOURCE_DIR/tests/emu/run.sh" "$PP_BINARY_DIR" ops "fp16,bf16,graph,nhwc,fallback,conv,attention" || exit 1
# one model end to end through the planner in fp16 and bf16 (gpu_models: the
# fixtures against PyTorch, no allocation after the build)
exec bash "$PP_SOURCE_DIR/tests/emu/run.sh" "$PP_BINARY_DIR" models mlp
