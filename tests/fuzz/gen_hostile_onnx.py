#!/usr/bin/python3
"""Writes the hostile-geometry ONNX models, tests/fuzz/regressions/fuzz_onnx/hostile-*.onnx.

    /usr/bin/python3 tests/fuzz/gen_hostile_onnx.py

The ONNX side of tests/support/hostile.c: shape attributes and constant shape
inputs no arithmetic may trust (INT64_MAX and INT64_MIN, zero steps and deltas,
products past 2^63), where the converter is the entry. Each model is one node
named after its file; tests/test_hostile.c (onnx_family) asserts that
pp_convert_onnx_graph refuses each with a message naming that node, the
attribute and its value, and the fuzz replay (cli_fuzz_smoke) runs them under
ASan and UBSan. Needs python3-onnx. Not run by the tests; the output is
committed.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions", "fuzz_onnx")
MAX, MIN = 2**63 - 1, -(2**63)
P62, P32 = 2**62, 2**32


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def save(name, op, inputs, x_shape, attrs=None, inits=(), opset=13, before=(), after=()):
    """One node `op` named `name` (with nodes before and after it, if given)."""
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)] if x_shape is not None else []
    outs = ["y" if not after else "t"] + (["mask"] if op == "Dropout" else [])
    node = helper.make_node(op, inputs, outs, name=name, **(attrs or {}))
    ys = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    if op == "Dropout":
        ys.append(helper.make_tensor_value_info("z", TensorProto.BOOL, None))
    graph = helper.make_graph(list(before) + [node] + list(after), name, ins, ys, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    with open(os.path.join(OUT, "hostile-%s.onnx" % name), "wb") as f:
        f.write(model.SerializeToString())


def main():
    os.makedirs(OUT, exist_ok=True)
    image = ["N", 1, 8, 8]
    w = numpy_helper.from_array(np.zeros((1, 1, 3, 3), dtype=np.float32), "w")
    save("conv-dilation-2^62", "Conv", ["x", "w"], image, {"dilations": [P62, 1]}, [w])
    save("conv-stride-int64-max-same", "Conv", ["x", "w"], image, {"strides": [1, MAX], "auto_pad": "SAME_UPPER"}, [w])
    save("conv-pads-int64-max", "Conv", ["x", "w"], image, {"pads": [MAX, 0, 0, 0]}, [w])
    save("conv-group-int64-min", "Conv", ["x", "w"], image, {"group": MIN}, [w])
    save("maxpool-kernel-int64-max", "MaxPool", ["x"], image, {"kernel_shape": [MAX, 1]})
    save("maxpool-stride-int64-max-ceil", "MaxPool", ["x"], image,
         {"kernel_shape": [2, 2], "strides": [MAX, 1], "ceil_mode": 1})
    save("avgpool-pads-sum-past-2^63", "AveragePool", ["x"], image, {"kernel_shape": [3, 3], "pads": [0, P62, 0, P62]})
    save("reshape-int64-max", "Reshape", ["x", "shape"], ["N", 8], inits=[i64("shape", [1, MAX])])
    save("reshape-product-past-2^63", "Reshape", ["x", "shape"], ["N", 8], inits=[i64("shape", [P32, P32, 2])])
    save("slice-step-zero", "Slice", ["x", "starts", "ends", "axes", "steps"], ["N", 8],
         inits=[i64("starts", [0]), i64("ends", [8]), i64("axes", [1]), i64("steps", [0])])
    save("expand-int64-max", "Expand", ["x", "shape"], [1, 1], inits=[i64("shape", [1, MAX])])
    save("expand-product-past-2^63", "Expand", ["x", "shape"], [1, 1], inits=[i64("shape", [P32, P32])])
    save("tile-int64-min", "Tile", ["x", "repeats"], [1, 1], inits=[i64("repeats", [MIN, 1])])
    save("tile-product-past-2^63", "Tile", ["x", "repeats"], [1, 1], inits=[i64("repeats", [P32, P32])])
    save("pad-int64-max", "Pad", ["x", "pads"], ["N", 8], inits=[i64("pads", [0, 0, 0, MAX])])
    save("range-int64-min-to-max", "Range", ["start", "limit", "delta"], None,
         inits=[i64("start", MIN), i64("limit", MAX), i64("delta", 1)])
    save("range-delta-zero", "Range", ["start", "limit", "delta"], None,
         inits=[i64("start", 0), i64("limit", 10), i64("delta", 0)])
    save("constant-of-shape-product-past-2^63", "ConstantOfShape", ["shape"], None,
         inits=[i64("shape", [P32, P32])])
    # Slicing a shape value (Shape -> Slice -> Concat -> Reshape) with a step that
    # would carry the index past INT64_MAX: legal, gives [4].
    save("slice-shape-step-int64-max", "Slice", ["s", "starts", "ends", "axes", "steps"], ["N", 4, 4],
         inits=[i64("starts", [1]), i64("ends", [3]), i64("axes", [0]), i64("steps", [MAX]), i64("minus1", [-1])],
         before=[helper.make_node("Shape", ["x"], ["s"], name="shape")],
         after=[helper.make_node("Concat", ["minus1", "t"], ["c"], name="concat", axis=0),
                helper.make_node("Reshape", ["x", "c"], ["y"], name="reshape")])
    # Dropout's mask output is made at import, from the input's extents alone:
    # (2^32 + 1)^2 elements wrapped around size_t to 2^33 + 1 (8 GB of ones).
    save("dropout-mask-past-2^64", "Dropout", ["x"], [P32 + 1, P32 + 1],
         after=[helper.make_node("Identity", ["t"], ["y"], name="id"),
                helper.make_node("Not", ["mask"], ["z"], name="not")])
    # Opset 6 broadcasting lines B up at `axis`.
    save("add-legacy-axis-int64-min", "Add", ["x", "b"], ["N", 4], {"broadcast": 1, "axis": MIN},
         [numpy_helper.from_array(np.zeros(4, dtype=np.float32), "b")], opset=6)


if __name__ == "__main__":
    main()
