#!/usr/bin/env bash
# ppconvert on torch.export archives (.pt2): the nine tiny-width models of
# tests/fixtures/pt2 (tests/fixtures/gen/gen_pt2.py, torch 2.8) convert and
# match PyTorch at batch 1, 2 and 5 from one graph.bin each.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
[ -x "$PPCONVERT" ] || { echo "SKIPPED: no ppconvert"; exit 77; }
F=$PP_SOURCE_DIR/tests/fixtures/pt2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if "$PPCONVERT" "$F/resnet50.pt2" -o "$tmp/probe.bin" 2>&1 | grep -q "built without cJSON"; then
  echo "SKIPPED: this build reads no .pt2 (no cJSON)"
  exit 77
fi
n=0
for m in resnet50 mobilenet_v3_large efficientnet_b0 convnext_tiny swin_t vit_b_16 regnet_y_800mf bert llama; do
  "$PPCONVERT" "$F/$m.pt2" -o "$tmp/$m.bin" > /dev/null
  for b in 1 2 5; do
    "$PPENGINE" run "$tmp/$m.bin" --input "$F/$m.input_b$b.npy" --output "$tmp/$m.b$b" --devices cpu --quiet
    "$PPENGINE" compare "$tmp/$m.b$b"/*.npy "$F/$m.output_b$b.npy" --tol 1e-4
    n=$((n + 1))
  done
done
echo "$n .pt2 runs match PyTorch"
