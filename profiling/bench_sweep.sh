#!/usr/bin/env bash
# Runs `ppengine bench` over a range of batch sizes, one JSON file each, then
# draws them with plot_bench.py (throughput against batch size, latency
# percentiles) when matplotlib is there.
#   profiling/bench_sweep.sh GRAPH OUTDIR [BATCHES] [extra bench options...]
# e.g. profiling/bench_sweep.sh build/demo/digits.bin out/sweep "1 4 16 64" --devices cpu --duration 2
set -euo pipefail
graph=${1:?usage: bench_sweep.sh GRAPH OUTDIR [BATCHES] [bench options]}
out=${2:?usage: bench_sweep.sh GRAPH OUTDIR [BATCHES] [bench options]}
batches=${3:-"1 2 4 8 16 32 64"}
shift $(( $# < 3 ? $# : 3 ))
ppengine=${PPENGINE:-$(dirname "$0")/../build/ppengine}
mkdir -p "$out"
for b in $batches; do
  "$ppengine" bench "$graph" --batch "$b" --json "$out/bench_b$b.json" "$@" | sed -n 3,4p
done
python3=${PYTHON:-/usr/bin/python3}
if "$python3" -c "import matplotlib" 2>/dev/null; then
  "$python3" "$(dirname "$0")/plot_bench.py" "$out"/bench_b*.json -o "$out/bench.png"
else
  echo "matplotlib not found: JSON files are in $out (apt-get install python3-matplotlib to plot)"
fi
