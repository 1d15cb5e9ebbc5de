#!/usr/bin/env bash
# ppconvert on PyTorch checkpoints: a torch.save state_dict with and without
# --arch, the output matching PyTorch's; --inspect on every format; a malicious
# pickle refused with nothing written.
set -euo pipefail
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
[ -x "$PPCONVERT" ] || { echo "SKIPPED: no ppconvert"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M=$PP_SOURCE_DIR/tests/fixtures/models
"$PPCONVERT" "$M/resnet.pt" -o "$tmp/given.bin" --arch resnet:input=32,strides=1/2/1
"$PPCONVERT" "$M/resnet.pt" -o "$tmp/detected.bin" --arch auto:input=32,strides=1/2/1 | grep -q "detected from the keys"
for g in given detected; do
  for b in "" _b3; do
    "$PPENGINE" run "$tmp/$g.bin" --input "$M/resnet.input$b.npy" --output "$tmp/$g$b" --devices cpu --quiet
    "$PPENGINE" compare "$tmp/$g$b"/*.npy "$M/resnet.output$b.npy" --tol 1e-4
  done
done
"$PPCONVERT" "$M/mlp.pt" -o "$tmp/mlp.bin" --arch mlp:act=relu/gelu > /dev/null
"$PPENGINE" run "$tmp/mlp.bin" --input "$M/mlp.input.npy" --output "$tmp/mlp" --devices cpu --quiet
"$PPENGINE" compare "$tmp/mlp"/*.npy "$M/mlp.output.npy" --tol 1e-4
for f in "$M/mlp.pt" "$M/mlp.onnx" "$tmp/mlp.bin"; do
  "$PPCONVERT" --inspect "$f" | grep -q "fc1.weight" || { echo "FAIL: --inspect $f does not list fc1.weight"; exit 1; }
done
C=$PP_SOURCE_DIR/tests/fixtures/ckpt
if [ -e "$C/evil_os_system.pt" ]; then
  if "$PPCONVERT" "$C/evil_os_system.pt" -o "$tmp/evil.bin" 2> "$tmp/err"; then
    echo "FAIL: a pickle calling os.system was converted"; exit 1
  fi
  grep -q "os.system" "$tmp/err" || { echo "FAIL: the refusal does not name os.system: $(cat "$tmp/err")"; exit 1; }
  [ ! -e "$tmp/evil.bin" ] || { echo "FAIL: output written for a refused pickle"; exit 1; }
fi
echo "ok: checkpoints convert with and without --arch and match PyTorch"
