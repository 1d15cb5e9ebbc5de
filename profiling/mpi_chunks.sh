#!/usr/bin/env bash
# What handing out chunks costs: `ppengine run` under mpirun on R ranks (default
# 1, 4 and 16, oversubscribed on however few cores there are) with the digits
# CNN, a tiny model, and tiny chunks (default 1, 4 and 16 items), over a folder
# of 10 copies of its 540 test images. Per run it prints the wall time, chunks
# per second, how long rank 0 took to answer one request and to make the
# manifest durable, how long ranks waited for a chunk, and what reading,
# running and writing one chunk cost. docs/scale.md reads these figures.
#   profiling/mpi_chunks.sh [BUILD_DIR] ["RANKS..."] ["CHUNKS..."]
# A benchmark, not a test: it prints figures and checks nothing but that the
# runs succeed.
set -euo pipefail
build=${1:-build}
ranks=${2:-"1 4 16"}
chunks=${3:-"1 4 16"}
src=$(cd "$(dirname "$0")/.." && pwd)
ppengine=$build/ppengine
ppconvert=$build/ppconvert
[ -x "$ppengine" ] && [ -x "$ppconvert" ] || { echo "build ppengine and ppconvert in $build first" >&2; exit 1; }
command -v mpirun > /dev/null || { echo "no mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
cores=$(nproc) # before OMP_NUM_THREADS, which nproc obeys
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm_rsh_agent=false
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
# One thread per rank: the ranks, not OpenMP or OpenBLAS, share the cores.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

tmp=$(mktemp -d /tmp/pp_mpi_chunks.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$ppconvert" "$src/examples/digits/digits.onnx" -o "$tmp/digits.bin" > /dev/null
mkdir "$tmp/in"
for k in 0 1 2 3 4 5 6 7 8 9; do cp "$src/examples/digits/test_x.npy" "$tmp/in/part$k.npy"; done
echo "$cores cores (load average $(cut -d' ' -f1 /proc/loadavg)); 5400 items of the digits CNN; Open MPI $(mpirun --version | sed -n 's/.*Open MPI) //p')"
printf '%5s %6s %7s %8s %9s %11s %11s %10s %9s %9s %9s\n' ranks chunk chunks wall_s chunks/s \
  "answer_us" "durable_us" "wait_ms" read_ms run_ms write_ms
for r in $ranks; do
  for c in $chunks; do
    out=$tmp/out_r${r}_c$c
    timeout -k 5 600 mpirun --oversubscribe -n "$r" "$ppengine" run "$tmp/digits.bin" --mpi --input "$tmp/in" \
      --output "$out" --devices cpu --chunk "$c" > "$tmp/log" 2> "$tmp/err" || { cat "$tmp/log" "$tmp/err"; exit 1; }
    awk -v r="$r" -v c="$c" '
      /^all / { chunks = $2; wall = $4 }
      /^per chunk:/ { rd = $4; rn = $7; wr = $10; wt = $15 }
      /^rank 0 answered/ { ans = $6; dur = $16 }
      END { printf "%5d %6d %7d %8.2f %9.0f %11.1f %11.1f %10.3f %9.3f %9.3f %9.3f\n",
                   r, c, chunks, wall, chunks / wall, ans, dur, wt, rd, rn, wr }' "$tmp/log"
    rm -rf "$out"
  done
done
