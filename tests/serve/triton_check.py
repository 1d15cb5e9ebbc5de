"""ppserve through Triton's own Python client (tritonclient[http]), run by
tests/cli_serve_triton.sh in a venv:  triton_check.py PORT DIR
DIR holds x5.npy / ref5.npy (digits) and m3.npy / refm.npy (mlp): the inputs
and what `ppengine run` gives for them. Every output must equal it exactly."""
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

port, d = sys.argv[1], sys.argv[2]
c = httpclient.InferenceServerClient(url="127.0.0.1:" + port, concurrency=8)
checks = 0


def check(ok, what):
    global checks
    if not ok:
        print("FAIL: " + what)
        sys.exit(1)
    checks += 1


check(c.is_server_live() and c.is_server_ready(), "live and ready")
check(c.is_model_ready("digits") and c.is_model_ready("mlp", "1"), "models ready")
check(not c.is_model_ready("resnet"), "an unknown model is not ready")
meta = c.get_server_metadata()
check(meta["name"] == "ppserve" and "binary_tensor_data" in meta["extensions"], "server metadata %s" % meta)
mm = c.get_model_metadata("digits")
check(mm["inputs"][0] == {"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}, "model metadata %s" % mm)

x5, ref5 = np.load(d + "/x5.npy"), np.load(d + "/ref5.npy")
m3, refm = np.load(d + "/m3.npy"), np.load(d + "/refm.npy")


def infer(model, x, out, binary_in, binary_out, version=""):
    i = httpclient.InferInput("input", list(x.shape), "FP32")
    i.set_data_from_numpy(x, binary_data=binary_in)
    outs = None if binary_out is None else [httpclient.InferRequestedOutput(out, binary_data=binary_out)]
    return c.infer(model, [i], model_version=version, outputs=outs).as_numpy(out)


for bin_in in (True, False):
    for bin_out in (True, False, None):
        got = infer("digits", x5, "logits", bin_in, bin_out)
        check(got is not None and got.shape == ref5.shape and got.tobytes() == ref5.tobytes(),
              "digits, binary in %s, binary out %s: differs from ppengine run" % (bin_in, bin_out))
got = infer("mlp", m3, "output", True, True, version="1")
check(got.tobytes() == refm.tobytes(), "mlp differs from ppengine run")

# Concurrent requests of one row each, merged by the server's batcher.
pending = []
for r in range(5):
    i = httpclient.InferInput("input", [1, 1, 8, 8], "FP32")
    i.set_data_from_numpy(x5[r:r + 1], binary_data=True)
    pending.append(c.async_infer("digits", [i]))
for r, p in enumerate(pending):
    got = p.get_result().as_numpy("logits")
    check(got.tobytes() == ref5[r:r + 1].tobytes(), "async request %d differs" % r)

for model, version, text in (("resnet", "", "unknown model 'resnet'"), ("digits", "7", "no version '7'")):
    try:
        infer(model, x5, "logits", True, True, version)
        check(False, "%s v%s: no error raised" % (model, version))
    except InferenceServerException as e:
        check(text in str(e), "error message '%s' lacks '%s'" % (e, text))
try:
    bad = httpclient.InferInput("input", [1, 1, 8, 7], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 1, 8, 7), np.float32))
    c.infer("digits", [bad])
    check(False, "a wrong shape raised nothing")
except InferenceServerException as e:
    check("does not fit" in str(e) and e.status() in ("400", 400), "wrong shape: %s (status %s)" % (e, e.status()))
c.close()
print("triton_check: %d checks passed" % checks)
