#!/usr/bin/env bash
# device-check.sh: the one command for the GPU machine (H200, sm_90), within 7 minutes.
#
# On the build machine (nvcc, no GPU), first:
#   bash profiling/device-check.sh --prepare
# builds for sm_90 into build-device/ and stages what the GPU machine runs in
# build-device/stage/ (ppengine, ppconvert, gpu_ops, gpu_models: the libraries
# cuBLASLt, cuDNN and NVRTC come from the GPU machine's PyTorch). Then, with the
# device tool:
#   run(command="bash profiling/device-check.sh", carry=["build-device/stage"], timeout_s=480)
# (build-device/ is ignored by git, which is what carry takes). Without a staged
# build the script builds there itself (bounded by the same budget).
#
# There it:
#  1. loads cuDNN, cuBLASLt and NVRTC from one set: PyTorch's pip packages
#     (nvidia/cudnn/lib, nvidia/cu13/lib or nvidia/*/lib), first on
#     LD_LIBRARY_PATH, and prints their versions;
#  2. runs gpu_ops and gpu_models (every kernel and fixture model against the CPU
#     and PyTorch);
#  3. exports ResNet-50, ViT-B/16 and a BERT-base-shaped encoder (torch_bench.py
#     export: random weights, PyTorch's f32 outputs on fixed inputs), converts
#     them, and per row runs ppengine on the saved input and compares with
#     PyTorch (thresholds below), then ppengine bench (graphs on, device
#     buffers), checking that graphs were replayed and, for ResNet-50, that the
#     convolutions ran as fused cuDNN graphs;
#  4. measures PyTorch eager (channels_last, same precision) and torch.compile
#     within the budget (torch_bench.py bench);
#  5. prints one table and writes $OUT/device-check.json: a list of
#     {"model","batch","precision","ppengine_per_s","pytorch_eager_per_s",
#      "pytorch_compile_per_s","max_rel_err","p50_ms","commit","date"}.
# Exits non-zero when a test, a threshold or a comparison fails. Every step is
# bounded (timeout); PP_CHECK_BUDGET (seconds, default 420) bounds the whole.
#
# Thresholds: ppengine's output against PyTorch's f32 output on the same input,
# relative L2 error ‖y − ref‖ / ‖ref‖: fp16 ≤ 2e-2, bf16 ≤ 6e-2, tf32 ≤ 5e-3,
# fp32 ≤ 1e-4; and for the classifiers the same top-1 class on ≥ 99% of rows.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUDGET=${PP_CHECK_BUDGET:-420}
START=$(date +%s)
BUILD=${BUILD_DIR:-$ROOT/build-device}
STAGE=$BUILD/stage
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
say() { echo "[device-check $(elapsed)s] $*"; }
# a step's time limit: at most $1 seconds and what the budget leaves
lim() { local l; l=$(left); [ "$l" -lt "$1" ] && echo $(( l > 5 ? l : 5 )) || echo "$1"; }

build_stage() { # configure, build and stage; $1 = time limit
  local t=$1 jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  [ -z "${PP_DEVICE_JOBS:-}" ] || jobs=$PP_DEVICE_JOBS
  mkdir -p "$BUILD"
  timeout "$t" cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
    ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} > "$BUILD/configure.log" 2>&1 || return 1
  grep -q "CUDA backend ON" "$BUILD/configure.log" || { echo "no CUDA backend (see $BUILD/configure.log)"; return 1; }
  timeout "$t" cmake --build "$BUILD" -j"$jobs" --target ppengine_cli ppconvert gpu_ops gpu_models \
    > "$BUILD/build.log" 2>&1 || { grep -E "error" "$BUILD/build.log" | head; return 1; }
  mkdir -p "$STAGE"
  cp "$BUILD/ppengine" "$BUILD/ppconvert" "$BUILD/tests/gpu_ops" "$BUILD/tests/gpu_models" "$STAGE/"
  git -C "$ROOT" rev-parse --short HEAD > "$STAGE/commit" 2>/dev/null || echo unknown > "$STAGE/commit"
}

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$BUILD"
  build_stage 3000 || { echo "device-check --prepare: the build failed"; exit 1; }
  echo "staged in $STAGE ($(du -sh "$STAGE" | cut -f1)); on the GPU machine: bash profiling/device-check.sh" \
       "with carry [\"${STAGE#$ROOT/}\"]"
  exit 0
fi

OUT=${OUT:-${TMPDIR:-/tmp}/pp-device-check}
mkdir -p "$OUT"
LOGS=$OUT/logs
mkdir -p "$LOGS"
FAILS=0
fail() { echo "FAIL: $*"; echo "$*" >> "$LOGS/failures.txt"; FAILS=$((FAILS + 1)); }

# ---- 1. one set of libraries ----------------------------------------------------------------
pylibs() { # PyTorch's library folders, cuDNN's first
  python3 - <<'EOF' 2>/dev/null
import os
try:
    import nvidia
except ImportError:
    raise SystemExit
base = list(nvidia.__path__)[0]
dirs = [os.path.join(base, s) for s in ("cudnn/lib", "cu13/lib", "cublas/lib", "cuda_nvrtc/lib", "cuda_runtime/lib")]
print(":".join(d for d in dirs if os.path.isdir(d)))
EOF
}
PYLIBS=$(pylibs)
[ -n "$PYLIBS" ] && export LD_LIBRARY_PATH="$PYLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CUDNN_ROOT=$(python3 -c "import nvidia.cudnn as m; print(list(m.__path__)[0])" 2>/dev/null || true)
export CUDNN_ROOT
say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1 || true)"
say "libraries first on the path: ${PYLIBS:-none found in the Python packages}"
python3 - <<'EOF' > "$LOGS/versions.txt" 2>&1
import ctypes
def ver(lib, fn, *args):
    try:
        h = ctypes.CDLL(lib)
        if args:
            a, b = ctypes.c_int(), ctypes.c_int()
            getattr(h, fn)(ctypes.byref(a), ctypes.byref(b))
            return f"{a.value}.{b.value}"
        getattr(h, fn).restype = ctypes.c_size_t
        return str(getattr(h, fn)())
    except OSError as e:
        return f"not loaded ({e})"
print("cuDNN   ", ver("libcudnn.so.9", "cudnnGetVersion"))
print("cuBLASLt", ver("libcublasLt.so.13", "cublasLtGetVersion"))
print("NVRTC   ", ver("libnvrtc.so.13", "nvrtcVersion", 1))
EOF
sed 's/^/  /' "$LOGS/versions.txt"

# ---- 2. binaries: staged here, or built now --------------------------------------------------
if [ ! -x "$STAGE/ppengine" ]; then
  say "no staged build (--prepare on the build machine saves these minutes): building"
  mkdir -p "$BUILD"
  build_stage "$(lim 240)" || { fail "build"; echo "FAILED: no binaries"; exit 1; }
fi
BIN=$STAGE
COMMIT=$(cat "$STAGE/commit" 2>/dev/null || echo unknown)
say "binaries of commit $COMMIT"

HAVE_GPU=0
nvidia-smi -L > /dev/null 2>&1 && HAVE_GPU=1

# ---- 3. tests --------------------------------------------------------------------------------------
for t in gpu_ops gpu_models; do
  say "$t"
  ( cd "$OUT" && PP_SOURCE_DIR=$ROOT PP_BINARY_DIR=$BIN PPCONVERT=$BIN/ppconvert \
      timeout "$(lim 90)" "$BIN/$t" ) > "$LOGS/$t.log" 2>&1
  rc=$?
  tail -1 "$LOGS/$t.log" | sed "s/^/  $t: /"
  [ $rc -eq 77 ] && [ "$HAVE_GPU" = 0 ] && continue # skipped: no device
  [ $rc -eq 0 ] || { fail "$t exited $rc ($(grep -c '^FAIL' "$LOGS/$t.log") FAIL lines; $LOGS/$t.log)"; grep '^FAIL' "$LOGS/$t.log" | head -5; }
done

if [ "$HAVE_GPU" = 0 ]; then
  say "no GPU here: the tests skipped, nothing measured (the no-GPU path)"
  [ "$FAILS" -eq 0 ] && exit 0
  exit 1
fi

# ---- 4. the models ------------------------------------------------------------------------------
ROWS=${PP_CHECK_ROWS:-resnet50:1:fp16 resnet50:32:fp16 resnet50:256:fp16 vit_b16:64:fp16 bert:64:fp16 resnet50:1:bf16 resnet50:32:bf16 resnet50:256:bf16 vit_b16:64:bf16 bert:64:bf16}
M=$OUT/models
mkdir -p "$M"
export_rows=$(for r in $ROWS; do echo "${r%:*}"; done | sort -u | paste -sd,)
say "exporting (PyTorch, f32 references): $export_rows"
timeout "$(lim 120)" python3 "$ROOT/profiling/torch_bench.py" export "$M" --rows "$export_rows" \
  > "$LOGS/export.log" 2>&1 || fail "export ($(tail -1 "$LOGS/export.log"))"
for m in $(for r in $ROWS; do echo "${r%%:*}"; done | sort -u); do
  [ -f "$M/$m.onnx" ] || continue
  timeout "$(lim 60)" "$BIN/ppconvert" "$M/$m.onnx" -o "$M/$m.bin" > "$LOGS/convert_$m.log" 2>&1 ||
    fail "ppconvert $m ($(tail -1 "$LOGS/convert_$m.log"))"
done

# rel L2 and top-1 of OUT against REF; prints "relL2 top1" or exits 1
compare() {
  python3 - "$1" "$2" <<'EOF'
import sys, numpy as np
y, r = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
if y.shape != r.shape or not np.isfinite(y).all():
    print("nan 0"); sys.exit(0)
rel = np.linalg.norm(y - r) / max(np.linalg.norm(r), 1e-30)
top1 = float((y.reshape(len(y), -1).argmax(1) == r.reshape(len(r), -1).argmax(1)).mean()) if y.ndim == 2 else 1.0
print(f"{rel:.3g} {top1:.4f}")
EOF
}
# throughput, median ms, the mode the timed runs used, convolutions run as fused
# graphs, and those that fell back to the direct kernel or a conversion
bench_facts() {
  python3 - "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
paths = j.get("paths", {})
fused = sum(n for p, n in paths.items() if "conv+epilogue" in p)
direct = sum(n for p, n in paths.items() if "direct kernel" in p or "(converted)" in p)
print(j["throughput_items_per_s"], j["latency_ms"]["median"], j["mode"], fused, direct)
EOF
}
declare -A THR=([fp16]=2e-2 [bf16]=6e-2 [tf32]=5e-3 [fp32]=1e-4)
: > "$LOGS/pp_rows.txt"
for r in $ROWS; do
  IFS=: read -r m b prec <<< "$r"
  tag=${m}_b${b}_$prec
  rel=null; thr=null; p50=null
  if [ ! -f "$M/$m.bin" ] || [ "$(left)" -lt 40 ]; then
    echo "$m $b $prec null null null" >> "$LOGS/pp_rows.txt"
    [ -f "$M/$m.bin" ] && echo "  $r: skipped (budget)"
    continue
  fi
  say "ppengine $r"
  # the outputs on PyTorch's input, against PyTorch's f32 outputs
  if timeout "$(lim 90)" "$BIN/ppengine" run "$M/$m.bin" --devices cuda:0 --precision "$prec" \
       --input "$M/${m}_b$b.in.npy" --output "$M/out_$tag" > "$LOGS/run_$tag.log" 2>&1; then
    read -r rel top1 <<< "$(compare "$M/out_$tag/output.npy" "$M/${m}_b$b.ref.npy")"
    ok=$(python3 -c "print(int(float('$rel') <= ${THR[$prec]} and float('$top1') >= 0.99))" 2>/dev/null || echo 0)
    [ "$ok" = 1 ] || fail "$r: relative L2 $rel (limit ${THR[$prec]}), top-1 agreement $top1"
  else
    fail "$r: ppengine run ($(tail -1 "$LOGS/run_$tag.log"))"
  fi
  # the figures: graphs on, device buffers
  if timeout "$(lim 90)" "$BIN/ppengine" bench "$M/$m.bin" --devices cuda:0 --precision "$prec" --batch "$b" \
       --cuda-graph --no-transfers --duration 1 --warmup 300 --json "$LOGS/bench_$tag.json" \
       > "$LOGS/bench_$tag.log" 2>&1; then
    read -r thr p50 mode fused direct <<< "$(bench_facts "$LOGS/bench_$tag.json")"
    [ "$mode" = graphs ] || fail "$r: the timed runs were '$mode', not graph replays"
    if [ "$m" = resnet50 ]; then
      [ "${fused:-0}" -gt 0 ] || fail "$r: no convolution ran as a fused cuDNN graph ($(grep '^paths' "$LOGS/bench_$tag.log"))"
      [ "${direct:-0}" -eq 0 ] || fail "$r: $direct convolutions fell back to the direct kernel or a conversion"
    fi
  else
    fail "$r: ppengine bench ($(tail -1 "$LOGS/bench_$tag.log"))"
  fi
  echo "$m $b $prec ${thr:-null} ${p50:-null} ${rel:-null}" >> "$LOGS/pp_rows.txt"
done
grep -h "^device:" "$LOGS"/bench_*.log 2>/dev/null | sort -u | head -2 | sed 's/^/  /'

# ---- 5. PyTorch, same GPU, same precision -------------------------------------------------------------
TB=$(( $(left) - 15 ))
: > "$LOGS/torch.jsonl"
if [ "$TB" -gt 20 ]; then
  say "PyTorch eager and torch.compile (budget ${TB}s)"
  timeout $(( TB + 10 )) python3 "$ROOT/profiling/torch_bench.py" bench --rows "$(echo $ROWS | tr ' ' ,)" \
    --budget "$TB" --json "$LOGS/torch.jsonl" > "$LOGS/torch.log" 2>&1 || fail "torch_bench ($(tail -1 "$LOGS/torch.log"))"
  sed 's/^/  /' "$LOGS/torch.log" | head -20
else
  say "PyTorch skipped: no time left"
fi

# ---- 6. the table and the JSON ----------------------------------------------------------------------
python3 - "$LOGS/pp_rows.txt" "$LOGS/torch.jsonl" "$OUT/device-check.json" "$COMMIT" <<'EOF'
import json, sys, datetime
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
torch = {}
for l in open(sys.argv[2]):
    if l.strip():
        t = json.loads(l)
        torch[(t["model"], str(t["batch"]), t["precision"])] = t
num = lambda s: None if s in (None, "null", "nan") else float(s)
date = datetime.date.today().isoformat()
recs = []
for m, b, prec, thr, p50, rel in rows:
    t = torch.get((m, b, prec), {})
    recs.append({"model": m, "batch": int(b), "precision": prec, "ppengine_per_s": num(thr),
                 "pytorch_eager_per_s": t.get("eager_per_s"), "pytorch_compile_per_s": t.get("compile_per_s"),
                 "max_rel_err": num(rel), "p50_ms": num(p50), "commit": sys.argv[4], "date": date})
json.dump(recs, open(sys.argv[3], "w"), indent=1)
f = lambda v, w=10, d=1: ("%*.*f" % (w, d, v)) if isinstance(v, (int, float)) else "%*s" % (w, "-")
print("%-9s %5s %-5s %12s %12s %12s %7s %9s %9s" % ("model", "batch", "prec", "ppengine/s", "eager/s", "compile/s",
                                                     "x eager", "p50 ms", "rel L2"))
for r in recs:
    sp = r["ppengine_per_s"] / r["pytorch_eager_per_s"] if r["ppengine_per_s"] and r["pytorch_eager_per_s"] else None
    print("%-9s %5d %-5s %s %s %s %s %s %s" % (r["model"], r["batch"], r["precision"], f(r["ppengine_per_s"], 12),
          f(r["pytorch_eager_per_s"], 12), f(r["pytorch_compile_per_s"], 12), f(sp, 7, 2), f(r["p50_ms"], 9, 3),
          ("%9.2e" % r["max_rel_err"]) if r["max_rel_err"] is not None else "%9s" % "-"))
EOF
say "done in $(elapsed)s; JSON in $OUT/device-check.json, logs in $LOGS"
if [ "$FAILS" -gt 0 ]; then
  echo "FAILED: $FAILS check(s):"
  sed 's/^/  /' "$LOGS/failures.txt"
  exit 1
fi
echo "all checks passed"
