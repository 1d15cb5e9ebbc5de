#!/usr/bin/python3
"""Request bodies and response checks for tests/cli_serve.sh (stdlib + numpy).

  oip.py slice IN.npy OUT.npy N                first N rows
  oip.py json X.npy INPUT OUT [OUTPUTS]        a JSON infer request (OUTPUTS: name,name)
  oip.py binary X.npy INPUT OUT [binout]       a binary request; prints the header's length
  oip.py check-json RESP OUTPUT REF.npy        the response's JSON data equal REF exactly
  oip.py check-binary RESP HEADERS OUTPUT REF.npy   the binary output equal REF byte for byte
  oip.py error RESP TEXT                       the body is {"error": "...TEXT..."}
"""
import json
import sys

import numpy as np


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def oip_type(a):
    return {"float32": "FP32", "int64": "INT64", "float64": "FP64", "int32": "INT32"}[str(a.dtype)]


def main(argv):
    cmd = argv[1]
    if cmd == "slice":
        np.save(argv[3], np.load(argv[2])[: int(argv[4])])
    elif cmd == "json":
        x = np.load(argv[2])
        req = {"id": "json-1", "inputs": [{"name": argv[3], "shape": list(x.shape), "datatype": oip_type(x),
                                           "data": x.reshape(-1).tolist()}]}
        if len(argv) > 5:
            req["outputs"] = [{"name": n} for n in argv[5].split(",")]
        # floats as repr: the shortest text that reads back to the same double,
        # so each float32 input arrives exactly
        open(argv[4], "w").write(json.dumps(req))
    elif cmd == "binary":
        x = np.ascontiguousarray(np.load(argv[2]))
        raw = x.astype(x.dtype.newbyteorder("<")).tobytes()
        req = {"inputs": [{"name": argv[3], "shape": list(x.shape), "datatype": oip_type(x),
                           "parameters": {"binary_data_size": len(raw)}}]}
        if len(argv) > 5 and argv[5] == "binout":
            req["parameters"] = {"binary_data_output": True}
        head = json.dumps(req).encode()
        open(argv[4], "wb").write(head + raw)
        print(len(head))
    elif cmd == "check-json":
        resp = json.load(open(argv[2]))
        ref = np.load(argv[4])
        outs = [o for o in resp["outputs"] if o["name"] == argv[3]]
        if len(outs) != 1:
            fail("output %s not in the response: %s" % (argv[3], str(resp)[:300]))
        o = outs[0]
        if o["shape"] != list(ref.shape) or o["datatype"] != oip_type(ref):
            fail("shape/datatype %s %s, want %s %s" % (o["shape"], o["datatype"], list(ref.shape), oip_type(ref)))
        got = np.array(o["data"], dtype=ref.dtype).reshape(ref.shape)
        if got.tobytes() != ref.tobytes():
            fail("JSON output %s differs from ppengine run: max |diff| %g" % (argv[3], np.abs(got - ref).max()))
    elif cmd == "check-binary":
        body = open(argv[2], "rb").read()
        headers = open(argv[3], "r", errors="replace").read().lower()
        n = [l for l in headers.splitlines() if l.startswith("inference-header-content-length:")]
        if not n:
            fail("no Inference-Header-Content-Length in the response headers")
        hl = int(n[-1].split(":")[1])
        head = json.loads(body[:hl])
        ref = np.load(argv[5])
        at = hl
        for o in head["outputs"]:
            size = o.get("parameters", {}).get("binary_data_size")
            if size is None:
                continue
            if o["name"] == argv[4]:
                if o["shape"] != list(ref.shape):
                    fail("binary output shape %s, want %s" % (o["shape"], list(ref.shape)))
                if body[at:at + size] != ref.astype(ref.dtype.newbyteorder("<")).tobytes():
                    fail("binary output %s differs from ppengine run" % argv[4])
                return
            at += size
        fail("output %s is not binary in %s" % (argv[4], head))
    elif cmd == "error":
        body = json.load(open(argv[2]))
        if set(body) != {"error"} or not isinstance(body["error"], str) or argv[3] not in body["error"]:
            fail("want {\"error\": \"...%s...\"}, got %s" % (argv[3], body))
    else:
        fail("unknown command " + cmd)


main(sys.argv)
