#!/usr/bin/env bash
# Bad inputs the command-line tools refuse (docs/bad-inputs.md): each check runs
# one tool on one crafted input and asserts the exit status (2 for ppengine's,
# classify's and ppbatch's usage errors, 1 otherwise), exactly one line on
# stderr, ended by its newline, and the key part of the documented message. Rows of the table covered
# elsewhere are not repeated here; every check is named by an ID the table cites
# as "cli_bad_inputs.sh:ID".
#
# Environment (set by ctest): PPENGINE, PPCONVERT, PP_SOURCE_DIR, PP_BINARY_DIR.
# Exit 77 when the tools are not built. Bad ONNX models are written by
# /usr/bin/python3 with the `onnx` package; without it those checks are skipped
# (and said so). PP_BAD_INPUTS_DUMP=1 prints every check's full message.
set -u
: "${PPENGINE:?}" "${PPCONVERT:?}" "${PP_SOURCE_DIR:?}"
ex=${PP_EXAMPLES_DIR:-${PP_BINARY_DIR:-$(dirname "$PPENGINE")}/examples}
for b in "$PPCONVERT" "$PPENGINE"; do
  [ -x "$b" ] || { echo "SKIPPED: $b is not built"; exit 77; }
done

T=$(mktemp -d /tmp/pp_cli_bad.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fails=0 checks=0 skipped=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# check ID RC PATTERN CMD...: CMD exits RC with one line on stderr containing
# PATTERN and ending with a newline (ctest's TIMEOUT guards against a hang).
check() {
  local id=$1 want=$2 pat=$3 err rc lines
  shift 3
  checks=$((checks + 1))
  "$@" > /dev/null 2> "$T/stderr.txt"
  rc=$?
  err=$(cat "$T/stderr.txt")
  [ "$(tail -c 1 "$T/stderr.txt" | wc -l)" -eq 1 ] || fail "$id: stderr does not end with a newline: $err"
  [ -n "${PP_BAD_INPUTS_DUMP:-}" ] && printf '%s\t%s\t%s\n' "$id" "$rc" "$err"
  lines=$(printf '%s\n' "$err" | wc -l)
  [ -n "$err" ] || lines=0
  [ "$rc" -eq "$want" ] || fail "$id: exit status $rc, expected $want ($err)"
  [ "$lines" -eq 1 ] || fail "$id: $lines lines on stderr, expected 1: $err"
  case "$err" in *"$pat"*) ;; *) fail "$id: message '$err' lacks '$pat'" ;; esac
}

# npy FILE DESCR FORTRAN SHAPE DATA_BYTES: a .npy (format 1.0) with that header
# and DATA_BYTES zero bytes after it.
npy() {
  local hdr="{'descr': '$2', 'fortran_order': $3, 'shape': $4, }"
  while [ $(((10 + ${#hdr} + 1) % 64)) -ne 0 ]; do hdr="$hdr "; done
  local n=$((${#hdr} + 1))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((n % 256)))\\x$(printf %02x $((n / 256)))"
    printf '%s\n' "$hdr"
    head -c "$5" /dev/zero
  } > "$1"
}

E=$PPENGINE
C=$PPCONVERT
M=$PP_SOURCE_DIR/tests/fixtures/models
"$C" "$M/mlp.onnx" -o mlp.bin > /dev/null || { echo "FAIL: cannot convert mlp.onnx"; exit 1; }
"$C" "$PP_SOURCE_DIR/examples/digits/digits.onnx" -o digits.bin > /dev/null || { echo "FAIL: cannot convert digits.onnx"; exit 1; }
N1=/features/features.3/Conv
N2=/classifier/classifier.3/Gemm

# ---- graph.bin ------------------------------------------------------------------------
: > empty.bin
check graph_empty 1 "shorter than the 64-byte header" "$E" info empty.bin
head -c 1000 mlp.bin > trunc.bin
check graph_truncated 1 "but the file is 1000 bytes (truncated or padded?)" "$E" info trunc.bin
check graph_bad_magic 1 "not a graph.bin (expected \"PPGRAPH\\0\")" "$E" info "$M/manifest.txt"
cp mlp.bin flip.bin
printf '\xff' | dd of=flip.bin bs=1 seek=2000 conv=notrunc 2> /dev/null
check graph_section_checksum 1 "section checksum mismatch over bytes" "$E" info flip.bin
check graph_missing 1 "nosuch.bin: cannot open: No such file or directory" "$E" run nosuch.bin --devices cpu
check graph_directory 1 "not a regular file" "$E" run "$T" --devices cpu

# ---- .npy inputs ------------------------------------------------------------------------
printf 'hello, not a .npy file' > text.npy
check npy_bad_magic 1 "not a .npy file (no \\x93NUMPY magic at byte 0)" "$E" run mlp.bin --input text.npy --devices cpu
check npy_missing 1 "nosuch.npy: cannot open" "$E" run mlp.bin --input nosuch.npy --devices cpu
npy trunc.npy '<f4' False '(2, 32)' 251
check npy_truncated 1 "is 251 bytes but shape (2, 32) of f32 needs 256" "$E" run mlp.bin --input trunc.npy --devices cpu
npy be.npy '>f4' False '(2, 32)' 256
check npy_big_endian 1 "dtype '>f4' is big-endian, which is not supported" "$E" run mlp.bin --input be.npy --devices cpu
npy fortran.npy '<f4' True '(2, 32)' 256
check npy_fortran 1 "fortran_order is True; only C order is supported" "$E" run mlp.bin --input fortran.npy --devices cpu
npy c8.npy '<c8' False '(2, 32)' 512
check npy_complex 1 "dtype '<c8' is not supported" "$E" run mlp.bin --input c8.npy --devices cpu
npy f8.npy '<f8' False '(2, 32)' 512
check npy_f64 1 "dtype '<f8' is not supported" "$E" run mlp.bin --input f8.npy --devices cpu
npy obj.npy '|O' False '(2,)' 16
check npy_object 1 "dtype '|O' is not supported" "$E" run mlp.bin --input obj.npy --devices cpu

# ---- inputs that do not match the graph ------------------------------------------------
npy i64.npy '<i8' False '(2, 32)' 512
check input_wrong_dtype 1 "input 'input' wants f32, the file holds i64" "$E" run mlp.bin --input i64.npy --devices cpu
npy rank3.npy '<f4' False '(1, 2, 32)' 256
check input_wrong_rank 1 "input 'input' has rank 2, the file has rank 3" "$E" run mlp.bin --input rank3.npy --devices cpu
npy x33.npy '<f4' False '(2, 33)' 264
check input_wrong_extent 1 "input 'input' axis 1 is 33, expected 32" "$E" run mlp.bin --input x33.npy --devices cpu
npy x32.npy '<f4' False '(2, 32)' 256
check input_unknown_name 1 "the graph has no input named 'nosuch'" "$E" run mlp.bin --input nosuch=x32.npy --devices cpu
check input_twice 1 "input 'input' is given twice" "$E" run mlp.bin --input x32.npy --input x32.npy --devices cpu
check input_batch_disagrees 1 "--batch 3 disagrees with the inputs' batch 2" "$E" run mlp.bin --input x32.npy --batch 3 --devices cpu

# ---- ppengine options ------------------------------------------------------------------
check cmd_unknown 2 "unknown command 'frob'" "$E" frob
check no_graph 2 "no GRAPH given" "$E" info
check extra_argument 2 "unexpected argument 'extra'" "$E" info mlp.bin extra
check batch_zero 2 "--batch '0' is not a positive integer" "$E" run mlp.bin --batch 0
check batch_no_value 2 "--batch needs a value" "$E" run mlp.bin --batch
check seed_bad 2 "--seed 'x' is not an integer >= 0" "$E" run mlp.bin --seed x
check stages_zero 2 "--stages '0' is not in 1..1024" "$E" run mlp.bin --stages 0
check microbatch_zero 2 "--microbatch '0' is not a positive integer" "$E" run mlp.bin --microbatch 0
check inflight_one 2 "--inflight '1' is not in 2..64" "$E" run mlp.bin --inflight 1
check mem_limit_unit 2 "--mem-limit '5Q' is not a size like 512M or 2G" "$E" run mlp.bin --mem-limit 5Q
check mem_limit_zero 2 "--mem-limit '0' is not a size like 512M or 2G" "$E" run mlp.bin --mem-limit 0
check mem_limit_too_small 1 "stage 0 does not fit cpu:0: needs" "$E" run mlp.bin --devices cpu --mem-limit 1K
check bench_iterations 2 "--iterations '0' is not a positive integer" "$E" bench mlp.bin --iterations 0
check bench_duration 2 "--duration '-1' is not a number of seconds" "$E" bench mlp.bin --duration -1
check precision_unknown 2 "--precision 'fp8' is not one of fp32, tf32, fp16, bf16" "$E" run mlp.bin --precision fp8

# ---- devices and placement -------------------------------------------------------------
check devices_unknown 1 "device 'bogus' is not one of cpu, cpu:N, cuda:N, auto" "$E" run mlp.bin --devices bogus
check devices_negative 1 "device 'cpu:-1' is not one of" "$E" run mlp.bin --devices cpu:-1
check devices_empty 1 "device list '' names no device" "$E" run mlp.bin --devices ""
check stages_exceed_devices 1 "1 device cannot be split into replicas of 50 stages" "$E" run mlp.bin --devices cpu:0 --stages 50
check precision_cpu_fp16 1 "cpu:0 computes in fp32 only: precision fp16 needs CUDA devices" \
  "$E" run mlp.bin --devices cpu --precision fp16
check no_transfers_replicas 1 "device buffers live on one device, but this engine has 2 replicas (cpu:0, cpu:1" \
  "$E" bench mlp.bin --devices cpu:0,cpu:1 --iterations 1 --warmup 0 --no-transfers
if "$E" plan mlp.bin --devices cuda:0 --stages 1 > /dev/null 2>&1; then
  echo "a CUDA device is present: cuda_without_gpu not checked"
  skipped=$((skipped + 1))
else
  check cuda_without_gpu 1 "cuda:0" "$E" run mlp.bin --devices cuda:0
fi
check split_unknown_node 1 "--split: no node named 'nosuch'" "$E" plan digits.bin --devices cpu:0,cpu:1 --stages 2 --split nosuch
check split_too_many 1 "--split names more nodes than the 1 that 2 stages need" \
  "$E" plan digits.bin --devices cpu:0,cpu:1 --stages 2 --split "$N1,$N2"
check split_out_of_order 1 "--split: node '$N1' does not come after the start of stage 2" \
  "$E" plan digits.bin --devices cpu:0,cpu:1,cpu:2 --stages 3 --split "$N2,$N1"

# ---- outputs that cannot be written ----------------------------------------------------
touch afile
check output_not_a_folder 1 "afile/output.npy: cannot create a temporary file beside it: Not a directory" \
  "$E" run mlp.bin --devices cpu --output afile
check trace_unwritable 1 "/nonexistent/t.json: cannot create a temporary file beside it" \
  "$E" run mlp.bin --devices cpu --trace /nonexistent/t.json
check json_unwritable 1 "/nonexistent/x.json: cannot create a temporary file beside it" \
  "$E" bench mlp.bin --devices cpu --iterations 1 --warmup 0 --json /nonexistent/x.json

# ---- ppconvert: arguments and files ----------------------------------------------------
check conv_no_model 1 "no model given" "$C"
check conv_two_models 1 "more than one model given" "$C" "$M/mlp.onnx" "$M/mlp.onnx" -o out.bin
check conv_o_no_value 1 "-o needs a value" "$C" "$M/mlp.onnx" -o
check conv_dim_zero 1 "--dim seq=0: '0' is not a positive extent" "$C" "$M/mlp.onnx" -o out.bin --dim seq=0
check conv_const_no_equals 1 "--const expects NAME=VALUE, got 'nothing'" "$C" "$M/mlp.onnx" -o out.bin --const nothing
check conv_output_folder_missing 1 "/nonexistent/dir/g.bin: cannot create a temporary file beside it" \
  "$C" "$M/mlp.onnx" -o /nonexistent/dir/g.bin
check conv_torch_legacy 1 "the legacy torch.save format (before PyTorch 1.6" "$C" "$PP_SOURCE_DIR/tests/fixtures/ckpt/legacy.pt" -o out.bin
check conv_directory 1 "not a regular file" "$C" "$M" -o out.bin
# Only the file name is asserted: the message is the protobuf reader's, not "a
# safetensors file" (ppconvert recognises torch zips by magic, not safetensors).
check conv_safetensors_wrong_arch 1 "the checkpoint does not match vgg16: missing 2 keys" "$C" "$PP_SOURCE_DIR/tests/fixtures/ckpt/mlp.safetensors" -o out.bin --arch vgg16

# ---- ppconvert: bad ONNX models --------------------------------------------------------
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" > /dev/null 2>&1 && "$p" -c 'import onnx, numpy' > /dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "no python3 with onnx and numpy: the bad-ONNX checks are skipped"
  skipped=$((skipped + 16))
else
  "$PY" - "$T" << 'EOF'
import sys, os, numpy as np, onnx
from onnx import helper as h, TensorProto as TP, numpy_helper as nh
d = sys.argv[1]
def save(name, nodes, ins, outs, inits=(), opset=13, ir=7, sparse=None):
    g = h.make_graph(nodes, "g", ins, outs, list(inits))
    if sparse is not None:
        g.sparse_initializer.extend([sparse])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = ir
    # serialized directly: onnx.save would not check, but be explicit that no
    # checker runs on these deliberately broken models
    open(os.path.join(d, name + ".onnx"), "wb").write(m.SerializeToString())
vi = h.make_tensor_value_info
X, Y = vi("x", TP.FLOAT, ["N", 4]), vi("y", TP.FLOAT, ["N", 4])
relu = [h.make_node("Relu", ["x"], ["y"], name="r")]
mm = [h.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
save("unsupported_op", [h.make_node("Foo", ["x"], ["y"], name="foo1")], [X], [Y])
save("other_domain", [h.make_node("FusedGelu", ["x"], ["y"], name="ms1", domain="com.microsoft")], [X], [Y])
save("opset30", relu, [X], [Y], opset=30)
save("ir99", relu, [X], [Y], ir=99)
save("symbolic", relu, [vi("x", TP.FLOAT, ["N", "seq"])], [vi("y", TP.FLOAT, ["N", "seq"])])
w = nh.from_array(np.ones((4, 4), np.float32), "w")
w.ClearField("raw_data")
w.data_location = TP.EXTERNAL
e = w.external_data.add(); e.key = "location"; e.value = "../etc/passwd"
save("external_dotdot", mm, [X], [Y], [w])
sp = h.make_sparse_tensor(nh.from_array(np.ones(1, np.float32), "w"), nh.from_array(np.array([0], np.int64), "wi"), [4, 4])
save("sparse", mm, [X], [Y], sparse=sp)
save("string_init", [h.make_node("Identity", ["s"], ["y"], name="id")], [X], [vi("y", TP.STRING, [1])],
     [h.make_tensor("s", TP.STRING, [1], [b"a"])])
save("conv3d", [h.make_node("Conv", ["x", "w"], ["y"], name="conv3d")], [vi("x", TP.FLOAT, ["N", 1, 4, 4, 4])],
     [vi("y", TP.FLOAT, ["N", 1, 2, 2, 2])], [nh.from_array(np.ones((1, 1, 3, 3, 3), np.float32), "w")])
save("tile5", [h.make_node("Tile", ["x"], ["y"], name="t", tiles=2, axis=1)], [X], [Y], opset=5, ir=3)
short = nh.from_array(np.ones((4, 4), np.float32), "w")
short.raw_data = short.raw_data[:20]
save("raw_size", mm, [X], [Y], [short])
save("shape_mismatch", mm, [X], [Y], [nh.from_array(np.ones((5, 4), np.float32), "w")])
save("int16_input", [h.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", TP.INT16, ["N", 4])], [vi("y", TP.INT16, ["N", 4])])
save("cubic", [h.make_node("Resize", ["x", "", "sc"], ["y"], name="rs", mode="cubic")],
     [vi("x", TP.FLOAT, ["N", 1, 4, 4])], [vi("y", TP.FLOAT, ["N", 1, 8, 8])],
     [nh.from_array(np.array([1, 1, 2, 2], np.float32), "sc")])
save("runtime_shape", [h.make_node("Reshape", ["x", "sh"], ["y"], name="reshape")], [X, vi("sh", TP.INT64, [2])], [Y])
save("dangling", [h.make_node("Relu", ["nosuch"], ["y"], name="r")], [X], [Y])
EOF
  cv() { check "$1" 1 "$2" "$C" "$1.onnx" -o out.bin; }
  cv unsupported_op "1 unsupported ONNX op type (1 node): Foo x1 (first 'foo1')"
  cv other_domain "com.microsoft::FusedGelu x1 (first 'ms1')"
  cv opset30 "ONNX opset 30 is not supported (the default domain at opsets 1 to 21)"
  cv ir99 "ONNX IR version 99 is not supported (3 to 15)"
  cv symbolic "graph input 'x' axis 1 has the symbolic extent 'seq': only the batch may be symbolic (bind it with --dim seq=N)"
  cv external_dotdot "initializer 'w': external data location '../etc/passwd' leaves the model's folder"
  cv sparse "sparse initializers are not supported"
  cv string_init "data type STRING (8) is not supported"
  cv conv3d "node 'conv3d' (Conv): 3-D convolution (input rank 5): only 1-D and 2-D are supported"
  cv tile5 "node 't' (Tile): Tile before opset 6"
  cv raw_size "tensor 'w' (byte 32): raw_data has 20 bytes, its shape and type need 64"
  cv shape_mismatch "node 'mm' (MATMUL): input 1 (B): axis 0 is 5, expected K = 4 (input 0 (A) axis 1)"
  cv int16_input "graph input 'x': element type INT16 is not supported"
  cv cubic "node 'rs' (Resize): mode 'cubic' (nearest and linear are supported)"
  cv runtime_shape "node 'reshape' (Reshape): input 1 (shape, 'sh') is computed at run time"
  cv dangling "node 'r' (Relu): input 'nosuch' is not produced by an earlier node, an initializer or a graph input"
  [ -e out.bin ] && fail "a failed conversion left out.bin"
fi

# ---- examples/classify and examples/ppbatch ----------------------------------------------
if [ ! -x "$ex/classify" ] || [ ! -x "$ex/ppbatch" ]; then
  echo "examples not built ($ex): their checks are skipped"
  skipped=$((skipped + 19))
else
  crc() { # crc TYPE DATA_HEX: the big-endian CRC-32 of TYPE||DATA, in \x form
    local c
    c=$(printf '%s' "$1$2" | xxd -r -p | gzip -c | tail -c 8 | head -c 4 | od -An -tx1 | tr -d ' \n')
    printf '\\x%s\\x%s\\x%s\\x%s' "${c:6:2}" "${c:4:2}" "${c:2:2}" "${c:0:2}"
  }
  chunk() { # chunk TYPE_HEX DATA_HEX: one PNG chunk, binary, to stdout
    local n=$((${#2} / 2))
    printf "\\x00\\x00\\x$(printf %02x $((n / 256)))\\x$(printf %02x $((n % 256)))"
    printf '%s%s' "$1" "$2" | xxd -r -p
    printf "$(crc "$1" "$2")"
  }
  # png NAME DEPTH COLOR_TYPE INTERLACE [EXTRA_TYPE_HEX EXTRA_DATA_HEX]: an 8x8
  # PNG whose IDAT holds an empty zlib stream (never reached: IHDR is refused first).
  png() {
    {
      printf '\x89PNG\r\n\x1a\n'
      chunk 49484452 "0000000800000008$(printf %02x%02x "$2" "$3")0000$(printf %02x "$4")"
      [ $# -ge 6 ] && chunk "$5" "$6"
      chunk 49444154 789c030000000001
      chunk 49454e44 ""
    } > "$1"
  }
  if command -v xxd > /dev/null && command -v gzip > /dev/null; then
    png palette.png 8 3 0
    png depth16.png 16 0 0
    png interlaced.png 8 0 1
    png critical.png 8 0 0 41424344 78
    png shortidat.png 8 0 0
    CL() { check "$1" 1 "$2" "$ex/classify" digits.bin "$1"; }
    CL palette.png "palette PNGs (color type 3) are not supported"
    CL depth16.png "PNG bit depth 16 is not supported"
    CL interlaced.png "interlaced (Adam7) PNGs are not supported"
    CL critical.png "PNG critical chunk 'ABCD' at byte 33 is not supported"
    CL shortidat.png "PNG image data inflates to 0 of the 72 bytes a 8x8 image needs"
  else
    echo "no xxd or gzip: the PNG checks are skipped"
    skipped=$((skipped + 5))
  fi
  printf 'P5 2 2 10\n\001\002\003\013' > maxval.ppm
  printf 'P5 2 2 0\n\000\000\000\000' > maxval0.ppm
  printf 'P4 8 8\n\000\000\000\000\000\000\000\000' > p4.pbm
  printf 'P2 2 2 255\n1 2 3 x\n' > ascii.pgm
  printf 'P5 20000 8 255\n' > wide.pgm
  check maxval.ppm 1 "PPM sample 3 (byte 13) is 11, above maxval 10" "$ex/classify" digits.bin maxval.ppm
  check maxval0.ppm 1 "PPM maxval is 0 (must be 1..65535)" "$ex/classify" digits.bin maxval0.ppm
  check p4.pbm 1 "PBM/PAM (P4) images are not supported" "$ex/classify" digits.bin p4.pbm
  check ascii.pgm 1 "PPM byte 17: expected the sample, found 0x78" "$ex/classify" digits.bin ascii.pgm
  check wide.pgm 1 "PPM byte 3: the width exceeds 16384" "$ex/classify" digits.bin wide.pgm
  check missing.png 1 "missing.png: No such file or directory" "$ex/classify" digits.bin missing.png
  S=$PP_SOURCE_DIR/examples/classify/samples/digit_3.png
  check classify_size 1 "--size 4,4 disagrees with input 'input', which is fixed at 8 x 8" "$ex/classify" digits.bin "$S" --size 4,4
  check classify_usage 2 "needs GRAPH and IMAGE" "$ex/classify" digits.bin
  check classify_top 2 "--top '0' is not an integer in 1..1000" "$ex/classify" digits.bin "$S" --top 0
  check classify_mean 2 "--mean '1,2' is not one or three numbers" "$ex/classify" digits.bin "$S" --mean 1,2
  check classify_std 2 "--std '0' has a value <= 0" "$ex/classify" digits.bin "$S" --std 0
  check classify_unknown 2 "unknown option '--bogus'" "$ex/classify" digits.bin "$S" --bogus 3
  X=$PP_SOURCE_DIR/examples/digits/test_x.npy
  check ppbatch_chunk 2 "--chunk '0' is not in 1..16777216" "$ex/ppbatch" digits.bin "$X" o.npy --chunk 0
  check ppbatch_usage 2 "needs GRAPH INPUT.npy OUTPUT.npy" "$ex/ppbatch" digits.bin
  check ppbatch_not_npy 1 "text.npy: not a .npy file" "$ex/ppbatch" digits.bin text.npy o.npy --quiet
  check ppbatch_output_index 1 "--output-index 5 but digits.bin has 1 outputs" \
    "$ex/ppbatch" digits.bin "$X" o.npy --output-index 5 --quiet
  check ppbatch_folder_missing 1 "/nonexistent/o.npy.partial: No such file or directory" \
    "$ex/ppbatch" digits.bin "$X" /nonexistent/o.npy --quiet
  [ -e o.npy ] && fail "a refused ppbatch left o.npy"
fi

# ---- ppserve (serve/) ------------------------------------------------------------------------
PPSERVE=${PPSERVE:-${PP_BINARY_DIR:-$(dirname "$PPENGINE")}/ppserve}
if [ ! -x "$PPSERVE" ]; then
  echo "ppserve not built ($PPSERVE): its checks are skipped"
  skipped=$((skipped + 5))
else
  check ppserve_set_form 2 "--set 'fp16' is not KEY=VALUE" "$PPSERVE" --model d=digits.bin --port 0 --set fp16
  check ppserve_set_value 1 "option precision: 'fp8' is not one of fp32, tf32, fp16, bf16" \
    "$PPSERVE" --model d=digits.bin --port 0 --devices cpu --set precision=fp8
  check ppserve_model_form 2 "--model 'digits.bin' is not NAME=GRAPH" "$PPSERVE" --model digits.bin
  check ppserve_max_body 2 "--max-body '12Q' is not a size like 65536, 512K or 64M" \
    "$PPSERVE" --model d=digits.bin --max-body 12Q
  check ppserve_max_batch 2 "--max-batch '65' is not in 1..64" "$PPSERVE" --model d=digits.bin --max-batch 65
fi

echo "cli_bad_inputs: $checks checks, $fails failed, $skipped skipped"
[ $fails -eq 0 ] || exit 1
echo "cli_bad_inputs: all checks passed"
