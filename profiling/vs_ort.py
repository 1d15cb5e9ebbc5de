#!/usr/bin/env python3
"""vs_ort.py: the driver behind profiling/vs-ort (run that; it makes the venv).

Three roles in one file:
  (default)         the benchmark, in the venv with onnxruntime + numpy
  export NAME PATH  writes one model's ONNX file; run by /usr/bin/python3 (torch)
  ort-worker ...    one ONNX Runtime session kept alive across rounds, driven over
                    stdin/stdout, so its timings alternate with ppengine's and its
                    peak RSS is its own
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

MODELS = ["resnet18", "resnet50", "mobilenet_v3_large", "efficientnet_b0", "bert_base"]
LABELS = {"resnet18": "ResNet-18", "resnet50": "ResNet-50", "mobilenet_v3_large": "MobileNetV3-Large",
          "efficientnet_b0": "EfficientNet-B0", "bert_base": "BERT-base encoder, seq 128"}
OPSET = 13
TOL = 1e-4


# ---- export (Debian interpreter: torch + torchvision) ---------------------------------

def export(name, path, root):
    if name == "bert_base":
        gen = os.path.join(root, "tests", "fixtures", "gen", "gen_models.py")
        subprocess.run(["/usr/bin/python3", gen, "--bert-base", path], check=True)
        return
    import torch
    import torchvision
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    tmp = path + ".tmp.onnx"
    with torch.no_grad():
        torch.onnx.export(model, (x,), tmp, opset_version=OPSET, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=True)
    os.replace(tmp, path)


# ---- the ONNX Runtime worker ---------------------------------------------------------------

def vm_hwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def ort_worker(onnx_path, threads, input_path):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    name = sess.get_inputs()[0].name
    feed = {name: x}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "save":
            np.save(cmd[1], sess.run(None, feed)[0])
            reply = {"ok": True}
        elif cmd[0] == "time":
            warm, n = int(cmd[1]), int(cmd[2])
            for _ in range(warm):
                sess.run(None, feed)
            ms = []
            for _ in range(n):
                t0 = time.perf_counter()
                sess.run(None, feed)
                ms.append((time.perf_counter() - t0) * 1e3)
            reply = {"ms": ms}
        elif cmd[0] == "rss":
            reply = {"kb": vm_hwm_kb(), "version": ort.__version__}
        else:
            break
        print(json.dumps(reply), flush=True)


class Ort:
    def __init__(self, onnx_path, threads, input_path):
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "ort-worker", onnx_path, str(threads),
                                   input_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline()
        if not reply:
            raise RuntimeError("the ONNX Runtime worker died")
        return json.loads(reply)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---- ppengine ------------------------------------------------------------------------------

def pp_bench(build, graph, batch, threads, iters, json_path):
    """One `ppengine bench` process; its latency figures and its own peak RSS (KB)."""
    argv = [os.path.join(build, "ppengine"), "bench", graph, "--devices", "cpu", "--threads", str(threads),
            "--batch", str(batch), "--iterations", str(iters), "--warmup", "1", "--json", json_path]
    with open(json_path + ".log", "w") as log:
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(json_path + ".log") as f:
            raise RuntimeError("%s failed (exit status %d%s): %s" % (
                " ".join(argv), p.returncode, " = signal %d" % -p.returncode if p.returncode < 0 else "",
                f.read().strip()))
    with open(json_path) as f:
        lat = json.load(f)["latency_ms"]
    return lat, usage.ru_maxrss


def rel_l2(a, b):
    import numpy as np
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


# ---- the benchmark -------------------------------------------------------------------------

def prepare_model(name, a):
    onnx_path = os.path.join(a.work, "models", name + ".onnx")
    graph = os.path.join(a.work, "models", name + ".bin")
    if not os.path.exists(onnx_path):
        print("exporting %s" % name, flush=True)
        subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "export", name, onnx_path, a.root], check=True)
    if not os.path.exists(graph) or os.path.getmtime(graph) < os.path.getmtime(onnx_path):
        subprocess.run([os.path.join(a.build, "ppconvert"), onnx_path, "-o", graph], check=True,
                       stdout=subprocess.DEVNULL)
    return onnx_path, graph


def make_input(name, batch, path):
    import numpy as np
    rng = np.random.default_rng(1234 + batch)
    shape = (batch, 128, 768) if name == "bert_base" else (batch, 3, 224, 224)
    np.save(path, rng.standard_normal(shape).astype(np.float32))


def measure(name, batch, a):
    import numpy as np
    onnx_path, graph = prepare_model(name, a)
    tmp = os.path.join(a.work, "run")
    os.makedirs(tmp, exist_ok=True)
    x_path = os.path.join(tmp, "%s_b%d.input.npy" % (name, batch))
    make_input(name, batch, x_path)
    ort = Ort(onnx_path, a.threads, x_path)
    try:
        ref_path = os.path.join(tmp, "ort_output.npy")
        ort.ask("save " + ref_path)
        outdir = os.path.join(tmp, "pp_out")
        subprocess.run([os.path.join(a.build, "ppengine"), "run", graph, "--devices", "cpu", "--threads",
                        str(a.threads), "--input", "input=" + x_path, "--output", outdir, "--quiet"], check=True)
        err = rel_l2(np.load(os.path.join(outdir, "output.npy")), np.load(ref_path))
        # one run of each decides how many runs make a round (~1 s of ORT, 3..20)
        probe = ort.ask("time 1 1")["ms"][0]
        iters = max(3, min(20, int(1000.0 / max(probe, 1e-3))))
        ort_ms, ort_med, pp_med, pp_min, pp_max, pp_rss = [], [], [], [], [], 0
        for r in range(a.rounds):
            ms = ort.ask("time %d %d" % (1 if r == 0 else 0, iters))["ms"]
            ort_ms += ms
            ort_med.append(statistics.median(ms))
            lat, rss = pp_bench(a.build, graph, batch, a.threads, iters, os.path.join(tmp, "bench.json"))
            pp_med.append(lat["median"])
            pp_min.append(lat["min"])
            pp_max.append(lat["max"])
            pp_rss = max(pp_rss, rss)
        info = ort.ask("rss")
    finally:
        ort.close()
    return {
        "model": name, "batch": batch, "err": err, "iters": iters,
        "ort": (min(ort_ms), statistics.median(ort_med), max(ort_ms)),
        "pp": (min(pp_min), statistics.median(pp_med), max(pp_max)),
        "ort_rss_mb": info["kb"] / 1024.0, "pp_rss_mb": pp_rss / 1024.0, "ort_version": info["version"],
    }


def fmt_row(r):
    ratio = r["pp"][1] / r["ort"][1]
    ok = "ok" if r["err"] <= TOL else "DISAGREE"
    return "| %s | %d | %.1f / **%.1f** / %.1f | %.1f / **%.1f** / %.1f | **%.2f** | %.0f | %.0f | %.1e %s |" % (
        LABELS[r["model"]], r["batch"], *r["pp"], *r["ort"], ratio, r["pp_rss_mb"], r["ort_rss_mb"], r["err"], ok)


def git(root, *args):
    try:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "export":
        export(sys.argv[2], sys.argv[3], sys.argv[4])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "ort-worker":
        ort_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cmdline", default="profiling/vs-ort")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--no-append", action="store_true")
    a = ap.parse_args()
    models = [m for m in a.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            ap.error("unknown model %s (%s)" % (m, ", ".join(MODELS)))
    batches = [int(b) for b in a.batches.split(",")]
    header = ("| model | batch | ppengine ms min / **median** / max | ORT ms min / **median** / max | "
              "ppengine / ORT | ppengine peak RSS MB | ORT peak RSS MB | rel. L2 |\n"
              "|---|---|---|---|---|---|---|---|")
    print(header, flush=True)
    rows = []
    for m in models:
        for b in batches:
            r = measure(m, b, a)
            rows.append(r)
            print(fmt_row(r), flush=True)
    ratios = [r["pp"][1] / r["ort"][1] for r in rows]
    worst = max(ratios) if ratios else 0
    commit = git(a.root, "rev-parse", "--short", "HEAD") + ("-dirty" if git(a.root, "status", "--porcelain",
                                                                             "--untracked-files=no") else "")
    load = os.getloadavg()
    summary = "worst ratio %.2f; %d of %d at or below 1.0; outputs %s" % (
        worst, sum(x <= 1.0 for x in ratios), len(ratios),
        "agree" if all(r["err"] <= TOL for r in rows) else "DISAGREE somewhere")
    print(summary)
    if a.no_append:
        return 0
    model_name = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model_name = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = ["", "## %s, ppengine vs ONNX Runtime %s, CPU, %d threads each" % (
        datetime.date.today().isoformat(), rows[0]["ort_version"] if rows else "?", a.threads),
        "Commit %s; `%s`; %s, %d cores in the affinity mask; load average %.1f / %.1f / %.1f at the end. "
        "%d alternating rounds of %s runs; ms are min / median of the per-round medians / max over all runs."
        % (commit, a.cmdline.strip(), model_name, len(os.sched_getaffinity(0)), *load, a.rounds,
           "/".join(str(r["iters"]) for r in rows)),
        "", header] + [fmt_row(r) for r in rows] + ["", summary + "."]
    with open(os.path.join(a.root, "docs", "perf.md"), "a") as f:
        f.write("\n".join(text) + "\n")
    print("appended to docs/perf.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
