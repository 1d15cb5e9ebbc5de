#!/usr/bin/env bash
# make demo: convert the bundled PyTorch-trained digit classifier from ONNX,
# predict the held-out digits with ppengine, and compare with PyTorch.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/demo"
mkdir -p "$out"
echo "== ppconvert: examples/digits/digits.onnx -> $out/digits.bin"
"$build/ppconvert" "$here/digits.onnx" -o "$out/digits.bin"
echo
echo "== ppengine info"
"$build/ppengine" info "$out/digits.bin"
echo
echo "== ppengine run on the held-out digits"
"$build/ppengine" run "$out/digits.bin" --input "$here/test_x.npy" --output "$out/predictions"
echo
echo "== the same, as a 2-stage pipeline on 4 logical CPU devices (2 replicas), micro-batch 64"
"$build/ppengine" run "$out/digits.bin" --input "$here/test_x.npy" --output "$out/predictions-pipeline" \
  --devices cpu:0,cpu:1,cpu:2,cpu:3 --stages 2 --microbatch 64 --quiet
cmp "$out/predictions/logits.npy" "$out/predictions-pipeline/logits.npy" &&
  echo "pipelined outputs are bit-identical to the single-device run"
echo
echo "== ppengine against PyTorch"
"$build/digits_accuracy" "$out/predictions/logits.npy" "$here/torch_logits.npy" "$here/test_y.npy"
