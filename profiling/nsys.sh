#!/usr/bin/env bash
# nsys.sh: runs any ppengine command under Nsight Systems with CUDA, NVTX, cuBLAS
# and cuDNN tracing, with ppengine's per-launch NVTX ranges ("<node> (<op>)") on.
#
#   bash profiling/nsys.sh [-o REPORT] ppengine bench graph.bin --devices cuda:0 --batch 32
#
# Writes REPORT.nsys-rep (default: $OUT/ppengine-profile or ./ppengine-profile) and
# prints the kernel and NVTX summaries (nsys stats). Open the report in the
# Nsight Systems GUI to see the timeline.
set -eu
REPORT=""
if [ "${1:-}" = "-o" ]; then REPORT=$2; shift 2; fi
if [ $# -eq 0 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
REPORT=${REPORT:-${OUT:-.}/ppengine-profile}
NSYS=${NSYS:-$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1 || true)}
if [ -z "$NSYS" ] || [ ! -x "$NSYS" ]; then
  echo "nsys.sh: Nsight Systems (nsys) not found; set NSYS=/path/to/nsys" >&2
  exit 1
fi
export PP_NVTX=1 # the CUDA backend pushes a range per launch
"$NSYS" profile --trace=cuda,nvtx,cublas,cudnn,osrt --cuda-memory-usage=false --force-overwrite=true \
  --output="$REPORT" "$@"
"$NSYS" stats --report cuda_gpu_kern_sum,nvtx_sum --format table "$REPORT.nsys-rep" 2>/dev/null | head -80 || true
