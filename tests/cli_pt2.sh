#!/usr/bin/env bash
# ppconvert on torch.export archives (.pt2): the nine tiny-width models of
# tests/fixtures/pt2 (tests/fixtures/gen/gen_pt2.py, torch 2.8) convert and
# match PyTorch from one graph.bin each: the image models at batch 1, 2 and 5,
# the text models (batch and sequence exported dynamic) at every stored
# (batch, seq) point, and so does symforms, whose output is the sizes of
# tensors shaped by every symbolic form the converter evaluates (t*t, t//2,
# t%3+2, max, min, b*(t+3), t-2), also in the str form older torch wrote;
# Swin-T also as core ATen; four of
# the fuzz seeds (two in core ATen) at batch 1 and 3; --dim narrows torch's
# ranges (and refuses a range outside them or an unknown symbol); five broken
# archives are refused by name with no output file.
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
for m in resnet50 mobilenet_v3_large efficientnet_b0 convnext_tiny swin_t vit_b_16 regnet_y_800mf bert llama symforms; do
  "$PPCONVERT" "$F/$m.pt2" -o "$tmp/$m.bin" > /dev/null
  points=0
  for x in "$F/$m".input_*.npy; do
    pt=${x##*.input_}
    pt=${pt%.npy}
    "$PPENGINE" run "$tmp/$m.bin" --input "$x" --output "$tmp/$m.$pt" --devices cpu --quiet
    "$PPENGINE" compare "$tmp/$m.$pt"/*.npy "$F/$m.output_$pt.npy" --tol 1e-4
    points=$((points + 1))
  done
  [ "$points" -ge 3 ] || { echo "FAIL: $m: only $points points"; exit 1; }
  n=$((n + points))
done
# The same sizes written as older torch versions did ("s27**2", "(s27//2)").
"$PPCONVERT" "$F/symforms_str.pt2" -o "$tmp/symforms_str.bin" > /dev/null
for x in "$F"/symforms.input_*.npy; do
  pt=${x##*.input_}
  pt=${pt%.npy}
  "$PPENGINE" run "$tmp/symforms_str.bin" --input "$x" --output "$tmp/symforms_str.$pt" --devices cpu --quiet
  "$PPENGINE" compare "$tmp/symforms_str.$pt"/*.npy "$F/symforms.output_$pt.npy" --tol 1e-4
  n=$((n + 1))
done
# The text models' sequence is a symbol of its own beside the batch.
"$PPENGINE" info "$tmp/bert.bin" > "$tmp/info.txt"
grep -qE "^  ids +i64 +\(batch, s[0-9]+\)" "$tmp/info.txt" || { echo "FAIL: bert's input is not (batch, seq)"; exit 1; }
seq=$(grep -oE "\(batch, s[0-9]+\)" "$tmp/info.txt" | head -1 | grep -oE "s[0-9]+")
grep -qE "^  $seq +1\.\.128$" "$tmp/info.txt" || { echo "FAIL: $seq is not 1..128 (torch's range)"; exit 1; }
# --dim narrows torch's ranges; the graph answers the same inside them.
"$PPCONVERT" "$F/bert.pt2" -o "$tmp/ranged.bin" --dim "$seq=1..64" --dim batch=1..8 > /dev/null
"$PPENGINE" info "$tmp/ranged.bin" > "$tmp/info.txt"
grep -qE "^  $seq +1\.\.64$" "$tmp/info.txt" || { echo "FAIL: --dim $seq=1..64 not kept"; exit 1; }
grep -qE "^  batch +1\.\.8 +\(the batch\)" "$tmp/info.txt" || { echo "FAIL: --dim batch=1..8 not kept"; exit 1; }
"$PPENGINE" run "$tmp/ranged.bin" --input "$F/bert.input_b2s50.npy" --output "$tmp/ranged" --devices cpu --quiet
"$PPENGINE" compare "$tmp/ranged"/*.npy "$F/bert.output_b2s50.npy" --tol 1e-4
n=$((n + 1))
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
refused() { # FILE EXPECTED-SUBSTRING [PPCONVERT-OPTIONS...]
  local out="$tmp/refused.bin" msg
  if msg=$("$PPCONVERT" "$1" -o "$out" "${@:3}" 2>&1); then
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
# A size torch writes as TruncToInt(IntTrueDiv(seq, 3)): a symbolic form the converter does not evaluate.
refused "$F/bad_symbolic_trunc.pt2" "tensor 'new_zeros' axis 0: the symbolic size"
refused "$F/bad_symbolic_trunc.pt2" "uses TruncToInt, which the converter does not evaluate"
# --dim: outside torch's range, or naming no symbol of the archive.
refused "$F/bert.pt2" "--dim $seq=1..600: outside the range 1..128 torch.export gives '$seq'" --dim "$seq=1..600"
refused "$F/bert.pt2" "--dim seq: no user input of the archive has the symbolic extent 'seq' (its symbols: batch, $seq)" \
  --dim seq=1..64
"$PPCONVERT" "$F/llama.pt2" -o "$tmp/x.bin" --arch resnet50 > "$tmp/arch.txt" 2>&1 && { echo "FAIL: --arch accepted"; exit 1; }
grep -q "a .pt2 archive" "$tmp/arch.txt"
