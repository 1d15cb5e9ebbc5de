#!/usr/bin/python3
"""Regenerates the committed seed corpora, tests/fuzz/corpus/<target>/.

    /usr/bin/python3 tests/fuzz/gen_seeds.py PPCONVERT

Needs python3-onnx, numpy, torch and safetensors (the fixture generator's
environment, `make fixtures`), Debian's libonnx-testdata, and a built ppconvert
(for the graph.bin seeds, which are converted ONNX seeds). Seeds are small on
purpose: one file per feature, everything under ~300 KB, so the smoke test
replays them all in seconds. Not run by the tests; the output is committed.
"""
import collections
import glob
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
TESTDATA = "/usr/share/libonnx-testdata/data/node"

# One ONNX node test per op (the smallest that ppconvert converts), plus a few
# it refuses, for the error paths.
ONNX_NODE_TESTS = """
abs add add_bcast and2d argmax_default_axis_example argmin_default_axis_example averagepool_2d_default
batchnorm_example cast_FLOAT_to_FLOAT16 castlike_FLOAT_to_DOUBLE ceil clip concat_1d_axis_0 constant
elu conv_with_strides_padding cos depthtospace_example div dropout_default equal erf exp flatten_axis0
floor gather_0 gather_elements_0 gemm_all_attributes greater greater_equal hardsigmoid hardswish identity
leakyrelu less less_equal log logsoftmax_axis_1 matmul_2d max_example maxpool_2d_pads mean_example
min_example mod_mixed_sign_int64 mul neg or2d prelu_example pow reciprocal reduce_max_default_axes_keepdim_example
reduce_mean_keepdims_example reduce_min_default_axes_keepdims_example reduce_prod_default_axes_keepdims_example
relu round shape sigmoid sign sin size softmax_axis_1 spacetodepth_example split_equal_parts_1d sqrt sub sum_example
tanh transpose_default tril unsqueeze_axis_0 where_example xor2d gather_elements_negative_indices softmax_axis_1_expanded
convtranspose bernoulli_expanded constant_pad constantofshape_int_zeros lstm_defaults
""".split()

ONNX_TENSOR_TESTS = ["abs", "and2d", "cast_FLOAT_to_FLOAT16", "castlike_FLOAT_to_DOUBLE", "argmax_default_axis_example",
                     "gather_0", "mod_mixed_sign_int64", "cast_FLOAT_to_STRING"]


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def model(nodes, inputs, outputs, inits=(), opset=13, name="seed"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_seeds")
    m.ir_version = 8
    return m.SerializeToString()


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def i64(name, vals):
    return numpy_helper.from_array(np.array(vals, dtype=np.int64), name)


def f32(name, arr, raw=True):
    arr = np.asarray(arr, dtype=np.float32)
    if raw:
        return numpy_helper.from_array(arr, name)
    return helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.flatten().tolist())


def synthetic_onnx():
    F, I = TensorProto.FLOAT, TensorProto.INT64
    x = vi("x", F, ["N", 2, 3])
    y = vi("y", F, None)
    s = {}
    s["reshape_batch"] = model([helper.make_node("Reshape", ["x", "shape"], ["y"])], [x], [y], [i64("shape", [0, -1])])
    s["shape_chain"] = model([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "six"], ["shp"], axis=0),
        helper.make_node("Reshape", ["x", "shp"], ["y"]),
    ], [x], [y], [i64("zero", 0), i64("ax0", [0]), i64("six", [6])])
    s["slice"] = model([helper.make_node("Slice", ["x", "st", "en", "ax", "stp"], ["y"])], [x], [y],
                       [i64("st", [0, 2]), i64("en", [2, -4]), i64("ax", [1, 2]), i64("stp", [1, -1])])
    s["pad_reflect"] = model([helper.make_node("Pad", ["x", "p"], ["y"], mode="reflect")], [x], [y],
                             [i64("p", [0, 0, 1, 0, 0, 1])])
    s["pad_const"] = model([helper.make_node("Pad", ["x", "p", "v"], ["y"])], [x], [y],
                           [i64("p", [0, 1, 0, 0, 1, 0]), f32("v", 2.5)])
    s["resize"] = model([helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="linear",
                                          coordinate_transformation_mode="half_pixel")],
                        [vi("x", F, ["N", 1, 2, 3])], [y], [f32("sc", [1, 1, 2, 2])])
    s["upsample"] = model([helper.make_node("Upsample", ["x", "sc"], ["y"], mode="nearest")],
                          [vi("x", F, [1, 1, 2, 2])], [y], [f32("sc", [1, 1, 2, 3])], opset=9)
    s["tile"] = model([helper.make_node("Tile", ["x", "r"], ["y"])], [x], [y], [i64("r", [1, 2, 1])])
    s["constant_of_shape"] = model([
        helper.make_node("ConstantOfShape", ["shp"], ["c"], value=f32("value", [1.5])),
        helper.make_node("Add", ["x", "c"], ["y"]),
    ], [x], [y], [i64("shp", [2, 3])])
    s["range"] = model([
        helper.make_node("Range", ["a", "b", "d"], ["r"]),
        helper.make_node("Add", ["x", "r"], ["y"]),
    ], [x], [y], [f32("a", 0.0), f32("b", 3.0), f32("d", 1.0)])
    s["expand"] = model([helper.make_node("Expand", ["x", "shp"], ["y"])], [vi("x", F, ["N", 1, 3])], [y],
                        [i64("shp", [1, 4, 3])])
    s["squeeze_axes"] = model([helper.make_node("Squeeze", ["x", "ax"], ["y"])], [vi("x", F, ["N", 1, 3])], [y],
                              [i64("ax", [1])])
    s["layernorm"] = model([helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)],
                           [x], [y], [f32("g", [1, 2, 3]), f32("b", [0, 0, 1])], opset=17)
    s["gelu_tanh"] = model([helper.make_node("Gelu", ["x"], ["y"], approximate="tanh")], [x], [y], opset=20)
    s["cumsum"] = model([helper.make_node("CumSum", ["x", "ax"], ["y"], exclusive=1, reverse=1)], [x], [y],
                        [i64("ax", 2)])
    s["unary_misc"] = model([
        helper.make_node("Softplus", ["x"], ["a"]), helper.make_node("Mish", ["a"], ["b"]),
        helper.make_node("Selu", ["b"], ["c"]), helper.make_node("GlobalAveragePool", ["c"], ["y"]),
    ], [x], [y], opset=18)
    s["not_where"] = model([
        helper.make_node("Greater", ["x", "z"], ["g"]), helper.make_node("Not", ["g"], ["ng"]),
        helper.make_node("Where", ["ng", "x", "z"], ["y"]),
    ], [x], [y], [f32("z", 0.0)])
    w = np.arange(2 * 2 * 3 * 3, dtype=np.float32).reshape(2, 2, 3, 3) / 10
    s["cnn"] = model([
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1], group=1),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1),
    ], [vi("x", F, ["N", 2, 4, 4])], [y],
        [f32("w", w), f32("b", [0.1, -0.1], raw=False), f32("fw", np.ones((3, 8))), f32("fb", [1, 2, 3])])
    s["attention_like"] = model([
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["x", "xt"], ["qk"]),
        helper.make_node("Softmax", ["qk"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "x"], ["y"]),
    ], [x], [y])
    s["split_concat"] = model([
        helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=2),
        helper.make_node("Concat", ["b", "a"], ["y"], axis=2),
    ], [x], [y], [i64("sp", [1, 2])])
    s["cast_f16"] = model([
        helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16),
        helper.make_node("Cast", ["h"], ["y"], to=TensorProto.FLOAT),
    ], [x], [y])
    ext = TensorProto(name="e", data_type=F, dims=[2, 2])
    ext.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "w.bin"), ("offset", "0"), ("length", "16")):
        e = ext.external_data.add()
        e.key, e.value = k, v
    s["external_data"] = model([helper.make_node("MatMul", ["x", "e"], ["y"])], [vi("x", F, ["N", 2])], [y], [ext])
    s["dim_param_bound"] = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, ["N", "seq"])], [y])
    # Shape arithmetic on a symbol besides the batch, as torch's dynamo exporter
    # writes it: Shape -> Gather -> Mul -> Concat -> Reshape, Range(seq) -> Expand.
    s["symbolic_seq"] = model([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["b"], axis=0),
        helper.make_node("Gather", ["s", "i1"], ["t"], axis=0),
        helper.make_node("Mul", ["b", "t"], ["bt"]),
        helper.make_node("Concat", ["bt", "four"], ["shp"], axis=0),
        helper.make_node("Reshape", ["x", "shp"], ["y"]),
        helper.make_node("Squeeze", ["t", "i0"], ["ts"]),
        helper.make_node("Range", ["zero", "ts", "one"], ["r"]),
        helper.make_node("Unsqueeze", ["r", "i1"], ["rc"]),
        helper.make_node("Concat", ["t", "t"], ["tt"], axis=0),
        helper.make_node("Expand", ["rc", "tt"], ["re"]),
        helper.make_node("Cast", ["re"], ["z"], to=F),
    ], [vi("x", F, ["N", "seq", 4])], [vi("y", F, None), vi("z", F, None)],
        [i64("i0", [0]), i64("i1", [1]), i64("four", [4]), i64("zero", 0), i64("one", 1)])
    return s


def torch_seeds():
    import torch
    import safetensors.torch as st
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    sd["fc.weight"] = torch.randn(3, 2)
    sd["fc.bias"] = torch.randn(3)
    small = {
        "f32": sd,
        "dtypes": {"h": torch.randn(2).half(), "bf": torch.randn(2).bfloat16(), "i64": torch.arange(3),
                   "i16": torch.arange(2, dtype=torch.int16), "b": torch.tensor([True, False]),
                   "u8": torch.tensor([1, 2], dtype=torch.uint8), "i8": torch.tensor([-1], dtype=torch.int8),
                   "d": torch.tensor([1.0], dtype=torch.float64), "i32": torch.tensor([7], dtype=torch.int32)},
        "views": {"t": torch.arange(6.0).reshape(2, 3).t(), "s": torch.arange(8.0)[2:5],
                  "shared": torch.arange(4.0)},
        "nested": {"state_dict": {"module.l.weight": torch.ones(2, 2)}, "epoch": 3, "name": "x", "lr": 0.1,
                   "hist": [1, 2, (3, 4)], "none": None},
        "scalar_empty": {"s": torch.tensor(2.0), "e": torch.zeros(0, 3)},
    }
    small["views"]["alias"] = small["views"]["shared"][1:]
    pts, pkls = {}, {}
    for name, obj in small.items():
        for proto in (2, 4):
            b = io.BytesIO()
            torch.save(obj, b, pickle_protocol=proto)
            pts[f"{name}_p{proto}.pt"] = b.getvalue()
    b = io.BytesIO()
    torch.save(sd, b, _use_new_zipfile_serialization=False)
    pts["legacy.pt"] = b.getvalue()
    for name, data in pts.items():
        if name == "legacy.pt":
            continue
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for n in z.namelist():
                if n.endswith("data.pkl"):
                    pkls[name.replace(".pt", ".pkl")] = z.read(n)
    # Plain pickles: every container and scalar opcode, protocols 2-5.
    plain = collections.OrderedDict(a=[1, -2, 2 ** 40, 2 ** 70, 1.5, "s", "é" * 3, b"by", (1,), (1, 2), (1, 2, 3),
                                       (), None, True, False, {1, 2}, frozenset([3])])
    plain["self"] = plain["a"]
    for proto in (2, 3, 4, 5):
        pkls[f"plain_p{proto}.pkl"] = pickle.dumps(plain, protocol=proto)
    pkls["refused_global.pkl"] = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
    safes = {}
    safes["f32.safetensors"] = st.save({k: v.contiguous() for k, v in sd.items()}, metadata={"format": "pt"})
    d = {k: v.contiguous() for k, v in small["dtypes"].items()}
    safes["dtypes.safetensors"] = st.save(d)
    safes["empty.safetensors"] = st.save({})
    safes["scalar_empty.safetensors"] = st.save({k: v.contiguous() for k, v in small["scalar_empty"].items()})
    return pts, pkls, safes


def zips(pts):
    z = {}
    z["torch_p2.zip"] = pts["f32_p2.pt"]
    for name, kw in (("zip64", dict(force_zip64=True)), ("plain", {})):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as f:
            f.comment = b"seed"
            with f.open("a/data.pkl", "w", **kw) as e:
                e.write(b"\x80\x02}q\x00.")
            f.writestr("a/data/0", b"\x00" * 16)
            f.writestr("a/byteorder", b"little")
        z[f"{name}.zip"] = b.getvalue()
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as f:
        f.writestr("a/data.pkl", b"x" * 64)
    z["deflated.zip"] = b.getvalue()
    b = io.BytesIO()
    zipfile.ZipFile(b, "w").close()
    z["empty.zip"] = b.getvalue()
    return z


def npys():
    s = {}
    arrs = {"u8": np.arange(5, dtype=np.uint8), "i8": np.array([-3, 4], dtype=np.int8),
            "zero_size": np.zeros((0, 3), np.float32), "rank8": np.zeros((1,) * 8, np.float32)}
    for k, a in arrs.items():
        b = io.BytesIO()
        np.save(b, a)
        s[k + ".npy"] = b.getvalue()
    for ver in ((2, 0), (3, 0)):
        b = io.BytesIO()
        np.lib.format.write_array(b, np.ones((2, 2), np.float32), version=ver)
        s[f"v{ver[0]}.npy"] = b.getvalue()
    return s


def main():
    ppconvert = sys.argv[1] if len(sys.argv) > 1 else None
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    onnx_seeds = {}
    for t in ONNX_NODE_TESTS:
        p = os.path.join(TESTDATA, "test_" + t, "model.onnx")
        if os.path.exists(p):
            onnx_seeds[t + ".onnx"] = open(p, "rb").read()
        else:
            print("missing node test", t, file=sys.stderr)
    for k, v in synthetic_onnx().items():
        onnx_seeds[k + ".onnx"] = v
    for k, v in onnx_seeds.items():
        out("fuzz_onnx", k, v)
    for t in ONNX_TENSOR_TESTS:
        for p in sorted(glob.glob(os.path.join(TESTDATA, "test_" + t, "test_data_set_0", "*.pb")))[:2]:
            out("fuzz_onnx_tensor", t + "_" + os.path.basename(p), open(p, "rb").read())
    out("fuzz_onnx_tensor", "float_data.pb", f32("t", [[1, 2], [3, 4]], raw=False).SerializeToString())
    out("fuzz_onnx_tensor", "int64_data.pb", helper.make_tensor("i", TensorProto.INT64, [3], [1, -2, 3])
        .SerializeToString())
    fixtures = os.path.join(HERE, "..", "fixtures", "npy")
    for p in sorted(glob.glob(os.path.join(fixtures, "*.npy"))):
        out("fuzz_npy", os.path.basename(p), open(p, "rb").read())
    for k, v in npys().items():
        out("fuzz_npy", k, v)
    pts, pkls, safes = torch_seeds()
    for k, v in pts.items():
        out("fuzz_torch", k, v)
    for k, v in pkls.items():
        out("fuzz_pickle", k, v)
    for k, v in safes.items():
        out("fuzz_safetensors", k, v)
    for k, v in zips(pts).items():
        out("fuzz_zip", k, v)
    if ppconvert:
        # graph.bin seeds: converted ONNX seeds, behind the harness's mode byte
        # (0x0a: recompute checksums, run; a few raw and misaligned ones too).
        tmp = tempfile.mkdtemp()
        n = 0
        # The synthetic models first (several ops, attributes of every type),
        # then node tests, up to 48 models.
        synth = synthetic_onnx()
        order = sorted(onnx_seeds.items(), key=lambda kv: (kv[0][:-5] not in synth, kv[0]))
        for k, v in order:
            if n == 48:
                break
            src, dst = os.path.join(tmp, k), os.path.join(tmp, k + ".bin")
            open(src, "wb").write(v)
            r = subprocess.run([ppconvert, src, "-o", dst], capture_output=True)
            if r.returncode != 0:
                continue
            data = open(dst, "rb").read()
            if len(data) > 4096:
                continue
            modes = [0x0A] + ([0x00, 0x0F, 0x1E] if n % 8 == 0 else [])
            for mode in modes:
                out("fuzz_graphbin", f"{k[:-5]}_m{mode:02x}.bin", bytes([mode]) + data)
            n += 1
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
