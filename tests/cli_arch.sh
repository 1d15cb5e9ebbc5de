#!/usr/bin/env bash
# Architectures built from state_dict keys (docs/checkpoints.md): torchvision's
# families at tiny widths (tests/fixtures/arch, tests/fixtures/gen/gen_arch.py,
# torch 2.8 / torchvision 0.23), each from torch.save and, where committed,
# .safetensors; the family detected from the keys and given by name; PyTorch's
# outputs matched at batch 1 and 2. A custom module's state_dict is refused
# with its keys listed and .pt2 / ONNX suggested.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
[ -x "$PPCONVERT" ] || { echo "SKIPPED: no ppconvert"; exit 77; }
F=$PP_SOURCE_DIR/tests/fixtures/arch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
st=1
"$PPCONVERT" --inspect "$F/vit.safetensors" 2>&1 | grep -q "without cJSON" && st=0
n=0
while read -r name opts shape; do
  case "$name" in ''|'#'*) continue ;; esac
  h=${shape##*x}
  extra=""
  [ "$opts" != "-" ] && extra=",$opts"
  case "$name" in # the name given with --arch: the detected one, or the family's generic name
  regnet_*) family=regnet ;;
  swin_v2) family=swin ;;
  wide_resnet) family=resnet ;;
  *) family=$name ;;
  esac
  for ext in pt safetensors; do
    [ -e "$F/$name.$ext" ] || continue
    [ "$ext" = safetensors ] && [ $st = 0 ] && continue
    for arch in "$family:input=$h$extra" "auto:input=$h$extra"; do
      "$PPCONVERT" "$F/$name.$ext" -o "$tmp/$name.bin" --arch "$arch" > "$tmp/log"
      for b in 1 2; do
        "$PPENGINE" run "$tmp/$name.bin" --input "$F/$name.input_b$b.npy" --output "$tmp/$name.b$b" --devices cpu --quiet
        "$PPENGINE" compare "$tmp/$name.b$b"/*.npy "$F/$name.output_b$b.npy" --tol 1e-4 > /dev/null
        rm -rf "$tmp/$name.b$b"
        n=$((n + 1))
      done
    done
    echo "$name.$ext: $(sed -n 's/.*: architecture \(.*\) (detected.*/\1/p' "$tmp/log" | head -1)"
  done
done < "$F/manifest.txt"
echo "$n runs match PyTorch"

# A custom module: its keys listed, .pt2 and ONNX suggested, nothing written.
if "$PPCONVERT" "$PP_SOURCE_DIR/tests/fixtures/ckpt/handmade_ok.pt" -o "$tmp/custom.bin" > "$tmp/err" 2>&1; then
  echo "FAIL: a custom state_dict was accepted"; exit 1
fi
[ ! -e "$tmp/custom.bin" ] || { echo "FAIL: output left behind"; exit 1; }
grep -q "cannot tell the architecture from the keys (w).*torch.export.save (.pt2) or torch.onnx.export" "$tmp/err"
