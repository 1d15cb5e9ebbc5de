#!/usr/bin/env bash
# ppconvert on torch.export archives (.pt2): the nine tiny-width models of
# tests/fixtures/pt2 (tests/fixtures/gen/gen_pt2.py, torch 2.8) convert and
# match PyTorch at batch 1, 2 and 5 from one graph.bin each; Swin-T also as core
# ATen (run_decompositions); four of the fuzz seeds (two in core ATen) at batch
# 1 and 3; five broken archives are refused by name with no output file.
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
# Core ATen (ep.run_decompositions()): slice_scatter, copy, as_strided, _softmax, bmm, ...
"$PPCONVERT" "$F/swin_t_core.pt2" -o "$tmp/swin_t_core.bin" > /dev/null
for b in 1 2; do
  "$PPENGINE" run "$tmp/swin_t_core.bin" --input "$F/swin_t.input_b$b.npy" --output "$tmp/swin_t_core.b$b" --devices cpu --quiet
  "$PPENGINE" compare "$tmp/swin_t_core.b$b"/*.npy "$F/swin_t.output_b$b.npy" --tol 1e-4
  n=$((n + 1))
done
S=$PP_SOURCE_DIR/tests/fuzz/corpus/fuzz_pt2
for m in conv_bn attention conv_bn_core attention_core; do
  "$PPCONVERT" "$S/$m.pt2" -o "$tmp/seed_$m.bin" > /dev/null
  for b in 1 3; do
    "$PPENGINE" run "$tmp/seed_$m.bin" --input "$F/seed_$m.input_b$b.npy" --output "$tmp/seed_$m.b$b" --devices cpu --quiet
    "$PPENGINE" compare "$tmp/seed_$m.b$b"/*.npy "$F/seed_$m.output_b$b.npy" --tol 1e-4
    n=$((n + 1))
  done
done
echo "$n .pt2 runs match PyTorch"

# Broken archives: a clear message naming what is wrong, exit 1, no output.
refused() { # FILE EXPECTED-SUBSTRING
  local out="$tmp/refused.bin" msg
  if msg=$("$PPCONVERT" "$1" -o "$out" 2>&1); then
    echo "FAIL: $1 was accepted"; exit 1
  fi
  [ ! -e "$out" ] || { echo "FAIL: $1 left $out behind"; exit 1; }
  if ! grep -qF -- "$2" <<< "$msg"; then
    echo "FAIL: $1: expected '$2' in: $msg"; exit 1
  fi
  echo "refused as expected: $msg"
}
refused "$F/bad_missing_weights.pt2" "data/weights/model.pt (the model's parameters and buffers) is missing"
refused "$F/bad_future_schema.pt2" "schema version 99.0 is newer than this converter reads"
refused "$F/bad_unknown_op.pt2" "aten.frobnicate.default x1 (first node 'relu')"
refused "$F/bad_truncated_json.pt2" "the ExportedProgram JSON is malformed or cut short near byte"
# Until symbolic dimensions beyond the batch land: a dynamic sequence length, named.
refused "$F/bad_dynamic_seq.pt2" "tensor 'x' axis 1: the symbolic extent"
"$PPCONVERT" "$F/llama.pt2" -o "$tmp/x.bin" --arch resnet50 > "$tmp/arch.txt" 2>&1 && { echo "FAIL: --arch accepted"; exit 1; }
grep -q "a .pt2 archive" "$tmp/arch.txt"
