#!/usr/bin/env bash
# device-check.sh: the one command for the GPU machine (H200, sm_90).
#
#   bash profiling/device-check.sh            # OUT=/some/dir keeps every log there
#
# 1. finds cuDNN: the one inside PyTorch's Python packages (nvidia.cudnn: lib/ has
#    libcudnn.so.9, include/ the headers), else the CUDA toolkit's;
# 2. configures (CMAKE_CUDA_ARCHITECTURES=90, CUDNN_ROOT) and builds;
# 3. runs the GPU tests (ctest -R gpu_: every CUDA op against the CPU, every fixture
#    model on cpu and cuda:0); without a GPU they report "skipped";
# 4. with a GPU: ppengine bench on ResNet-50 (batch 1/32/256) and a BERT-base-like
#    encoder (seq 128, batch 1/64), exported by profiling/torch_bench.py, in fp32,
#    tf32 and fp16, launch by launch and with CUDA graphs (and device buffers), then
#    the PyTorch figures (fp16 channels_last eager, torch.compile where it works);
# 5. prints a short table last.
# Everything is budgeted to finish within 8 minutes (PP_CHECK_BUDGET seconds).
# No network is needed and nothing is installed.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUDGET=${PP_CHECK_BUDGET:-470}
START=$(date +%s)
LOGS=${OUT:-${TMPDIR:-/tmp}/pp-device-check}
BUILD=${BUILD_DIR:-$ROOT/build-device}
mkdir -p "$LOGS"
SUMMARY="$LOGS/summary.txt"
: > "$SUMMARY"
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
say() { echo "[device-check $(elapsed)s] $*"; }
row() { printf '%s\n' "$*" >> "$SUMMARY"; }

# ---- 1. cuDNN ---------------------------------------------------------------------
CUDNN_ROOT=${CUDNN_ROOT:-}
if [ -z "$CUDNN_ROOT" ]; then
  CUDNN_ROOT=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null || true)
fi
if [ -z "$CUDNN_ROOT" ] || [ ! -e "$CUDNN_ROOT/include/cudnn.h" ]; then
  CUDNN_ROOT=/usr/local/cuda
  say "no cuDNN in the Python packages: using $CUDNN_ROOT"
fi
CUDNN_LIBDIR=""
for d in "$CUDNN_ROOT/lib" "$CUDNN_ROOT/lib64" "$CUDNN_ROOT/targets/x86_64-linux/lib"; do
  if ls "$d"/libcudnn.so* >/dev/null 2>&1; then CUDNN_LIBDIR=$d; break; fi
done
CUDNN_VER=$(awk '/#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s%s", sep, $3; sep="."}' \
  "$CUDNN_ROOT/include/cudnn_version.h" 2>/dev/null)
say "cuDNN ${CUDNN_VER:-?} at $CUDNN_ROOT (libs: ${CUDNN_LIBDIR:-not found})"
# the pip layout keeps cuBLAS/NVRTC beside cuDNN (nvidia/cu13/lib or nvidia/*/lib)
EXTRA_LIBS=""
if [ -n "$CUDNN_LIBDIR" ]; then
  for d in "$CUDNN_ROOT"/../*/lib "$CUDNN_ROOT"/../cu13/lib; do
    [ -d "$d" ] && EXTRA_LIBS="$EXTRA_LIBS:$(cd "$d" && pwd)"
  done
fi
export LD_LIBRARY_PATH="${CUDNN_LIBDIR}${EXTRA_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$LOGS/gpu.txt" 2>&1 || \
  echo "no nvidia-smi / no driver" > "$LOGS/gpu.txt"
say "GPU: $(head -1 "$LOGS/gpu.txt")"

# ---- 2. build -----------------------------------------------------------------------
say "configuring into $BUILD"
# Pin the header and the library to the same cuDNN (the top CMakeLists would look
# in the toolkit's folders first).
CUDNN_PIN=()
if [ -e "$CUDNN_ROOT/include/cudnn.h" ] && [ -n "$CUDNN_LIBDIR" ]; then
  lib=$(ls "$CUDNN_LIBDIR"/libcudnn.so.9 "$CUDNN_LIBDIR"/libcudnn.so 2>/dev/null | head -1)
  [ -n "$lib" ] && CUDNN_PIN=(-DPP_CUDNN_INCLUDE="$CUDNN_ROOT/include" -DPP_CUDNN_LIB="$lib")
fi
if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
     -DCUDNN_ROOT="$CUDNN_ROOT" ${CUDNN_PIN[@]+"${CUDNN_PIN[@]}"} > "$LOGS/configure.log" 2>&1; then
  tail -30 "$LOGS/configure.log"
  say "FAILED: configure (log: $LOGS/configure.log)"
  exit 1
fi
grep "ppengine: CUDA backend" "$LOGS/configure.log" | sed 's/^-- /  /'
JOBS=$(nproc 2>/dev/null || echo 8)
say "building with $JOBS jobs"
if ! cmake --build "$BUILD" -j"$JOBS" > "$LOGS/build.log" 2>&1; then
  grep -E "error|Error" "$LOGS/build.log" | head -20
  # Go on with what does build: the CUDA backend and its tests matter most here.
  say "the full build failed (log: $LOGS/build.log); building the GPU targets one by one"
  row "build      FAILED for some targets ($LOGS/build.log)"
  for t in ppcuda ppengine_static gpu_ops gpu_models ppconvert ppengine_cli; do
    cmake --build "$BUILD" -j"$JOBS" --target "$t" >> "$LOGS/build_targets.log" 2>&1 || row "build      target $t FAILED"
  done
  if [ ! -x "$BUILD/tests/gpu_ops" ]; then
    say "FAILED: gpu_ops does not build (log: $LOGS/build_targets.log)"
    cat "$SUMMARY"
    exit 1
  fi
else
  row "build      ok ($(grep -c 'warning' "$LOGS/build.log") warnings)"
fi
say "built"

# ---- 3. GPU tests ---------------------------------------------------------------------
say "ctest -R gpu_"
( cd "$BUILD" && timeout $(( $(left) > 240 ? 240 : ($(left) > 30 ? $(left) : 30) )) \
    ctest -R gpu_ -V ) > "$LOGS/ctest.log" 2>&1
CTEST_RC=$?
grep -E "Test +#|tests passed|tests failed" "$LOGS/ctest.log" | sed 's/^/  /'
if grep -Eq "gpu_ops .*Skipped" "$LOGS/ctest.log"; then
  HAVE_GPU=0
  row "tests      gpu_ops, gpu_models: SKIPPED (no usable CUDA device)"
else
  HAVE_GPU=1
  row "tests      $(grep -E 'tests passed' "$LOGS/ctest.log" | head -1) (ctest rc $CTEST_RC)"
  for t in gpu_ops gpu_models; do
    [ -x "$BUILD/tests/$t" ] || continue
    # ctest -V prefixes each output line with the test number: "1: ok ..."
    n=$(grep -E "Test +#[0-9]+: $t " "$LOGS/ctest.log" | head -1 | sed -E 's/.*#([0-9]+):.*/\1/')
    [ -n "$n" ] && grep -E "^$n: [0-9]+ passed, [0-9]+ failed" "$LOGS/ctest.log" | head -1 | \
      sed -E "s/^$n: /           $t: /" >> "$SUMMARY"
  done
  grep -E "^[0-9]+: FAIL" "$LOGS/ctest.log" | head -20 | sed 's/^/           /' >> "$SUMMARY"
fi

# ---- 4. benchmarks ------------------------------------------------------------------------
if [ "$HAVE_GPU" = 1 ] && python3 -c "import torch" 2>/dev/null; then
  ONNX="$LOGS/onnx"
  say "exporting ResNet-50 and the BERT-like encoder to ONNX"
  if timeout 120 python3 "$ROOT/profiling/torch_bench.py" --export "$ONNX" > "$LOGS/export.log" 2>&1; then
    for m in resnet50 bert; do
      "$BUILD/ppconvert" "$ONNX/$m.onnx" -o "$ONNX/$m.bin" > "$LOGS/convert_$m.log" 2>&1 || \
        row "ppengine   $m: ppconvert failed ($LOGS/convert_$m.log)"
    done
  else
    row "ppengine   ONNX export failed ($LOGS/export.log)"
  fi
  # spec = model:batch:precision[:g][:n]  (g: --cuda-graph, n: --no-transfers)
  for spec in resnet50:1:fp32:g resnet50:1:fp16:g:n resnet50:32:fp32 resnet50:256:fp32 resnet50:256:fp16 \
              resnet50:32:tf32 bert:1:fp32:g bert:1:fp16:g:n bert:64:fp32 bert:64:fp16; do
    IFS=: read -r m b prec f1 f2 <<< "$spec"
    [ -f "$ONNX/$m.bin" ] || continue
    flags=(--no-cuda-graph); mode=eager   # graphs are the CUDA default: say which
    for f in $f1 $f2; do
      [ "$f" = g ] && flags=(--cuda-graph "${flags[@]:1}") && mode=graph
      [ "$f" = n ] && flags+=(--no-transfers) && mode=$mode+dev
    done
    if [ "$(left)" -lt 120 ]; then row "ppengine   $m $prec batch $b $mode: skipped (time budget)"; continue; fi
    say "ppengine bench $m $prec batch $b $mode"
    tag=${m}_${prec}_b${b}_${mode//+/_}
    if timeout 60 "$BUILD/ppengine" bench "$ONNX/$m.bin" --devices cuda:0 --batch "$b" --precision "$prec" \
         ${flags[@]+"${flags[@]}"} --duration 2 --json "$LOGS/bench_$tag.json" > "$LOGS/bench_$tag.log" 2>&1; then
      thr=$(sed -n 's/^throughput: \([0-9.]*\) items.*/\1/p' "$LOGS/bench_$tag.log")
      lat=$(sed -n 's/^latency ms: .*median \([0-9.]*\) .*p99 \([0-9.]*\) .*/median \1 p99 \2/p' "$LOGS/bench_$tag.log")
      row "$(printf 'ppengine   %-9s %-9s %-5s batch %4s: %10s items/s  %s ms' "$m" "$mode" "$prec" "$b" "$thr" "$lat")"
    else
      row "ppengine   $m $prec batch $b $mode: FAILED ($(tail -1 "$LOGS/bench_$tag.log" | cut -c1-150))"
    fi
  done
  # Pipelines and replicas on the one GPU (issue: multi-device execution): two
  # stages sharing cuda:0, and two replicas of the whole model on it.
  if [ -f "$ONNX/resnet50.bin" ] && [ "$(left)" -gt 120 ]; then
    for cfg in "cuda:0,cuda:0:2:32" "cuda:0,cuda:0:1:128"; do
      devs=${cfg%:*:*}; rest=${cfg#"$devs":}; P=${rest%%:*}; M=${rest#*:}
      tag=pipe_${P}_$M
      say "ppengine bench resnet50 --devices $devs --stages $P --microbatch $M"
      if timeout 60 "$BUILD/ppengine" bench "$ONNX/resnet50.bin" --devices "$devs" --stages "$P" --microbatch "$M" \
           --batch 256 --duration 2 --json "$LOGS/bench_$tag.json" > "$LOGS/bench_$tag.log" 2>&1; then
        thr=$(sed -n 's/^throughput: \([0-9.]*\) items.*/\1/p' "$LOGS/bench_$tag.log")
        row "$(printf 'ppengine   resnet50  %s stages %s micro %s batch 256: %10s items/s' "$devs" "$P" "$M" "$thr")"
      else
        row "ppengine   resnet50 $devs stages $P: FAILED ($(tail -1 "$LOGS/bench_$tag.log" | cut -c1-150))"
      fi
    done
  fi
  TB=$(( $(left) - 20 ))
  if [ "$TB" -gt 30 ]; then
    say "PyTorch reference (budget ${TB}s)"
    timeout $(( TB + 10 )) python3 "$ROOT/profiling/torch_bench.py" --budget "$TB" --json "$LOGS/torch.jsonl" \
      > "$LOGS/torch.log" 2>&1
    head -1 "$LOGS/torch.log" | sed 's/^/           /' >> "$SUMMARY"
    grep -E "items/s|skipped|failed" "$LOGS/torch.log" | sed 's/^  /torch      /' >> "$SUMMARY"
  else
    row "torch      skipped (time budget)"
  fi
elif [ "$HAVE_GPU" = 1 ]; then
  row "bench      skipped: no PyTorch here to export the models and measure the reference"
else
  row "bench      skipped: no GPU"
fi

say "done in $(elapsed)s; logs in $LOGS"
echo "==================== summary ===================="
cat "$SUMMARY"
