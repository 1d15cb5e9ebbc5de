#!/usr/bin/env python3
"""torch_bench.py: the PyTorch figures ppengine is compared with on the GPU machine.

Models (random weights; no network, no torchvision needed):
  resnet50   ResNet-50 (torchvision's layout), batch 1 / 32 / 256, fp16, channels_last
  bert       a BERT-base-like encoder: 12 layers, d 768, 12 heads, FFN 3072, GELU,
             post-norm, token + position embeddings, seq 128, batch 1 / 64, fp16
each in eager mode under torch.no_grad(), then torch.compile where it works and time
allows. Timing: CUDA events around each run after a warm-up; throughput is items
per second over the timed window, latency median and p99 per run.

  --export DIR   also write DIR/resnet50.onnx and DIR/bert.onnx (fp32, batch axis
                 dynamic) for ppconvert / ppengine bench, then exit
  --budget S     stop starting new measurements after S seconds (default 150)
  --json FILE    write the figures as JSON lines
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- models ------------------------------------------------------------------------

class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride=1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + idt)


class ResNet50(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            for i in range(blocks):
                layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
                cin = width * 4
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(2048, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layers(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class EncoderLayer(nn.Module):
    def __init__(self, d=768, heads=12, ffn=3072, sdpa=True):
        super().__init__()
        self.h, self.sdpa = heads, sdpa
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        if self.sdpa:
            a = F.scaled_dot_product_attention(q, k, v)
        else:  # plain ops, for a clean ONNX export
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.h), dim=-1) @ v
        x = self.ln1(x + self.proj(a.transpose(1, 2).reshape(b, t, d)))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Bert(nn.Module):
    def __init__(self, layers=12, d=768, vocab=30522, seq=128, sdpa=True):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.ln = nn.LayerNorm(d)
        self.layers = nn.ModuleList([EncoderLayer(d, sdpa=sdpa) for _ in range(layers)])

    def forward(self, ids):
        x = self.ln(self.tok(ids) + self.pos[:, : ids.shape[1]])
        for layer in self.layers:
            x = layer(x)
        return x


# ---- timing ------------------------------------------------------------------------

def measure(fn, x, batch, seconds=1.5, warmup=10, max_iters=500):
    with torch.no_grad():
        for _ in range(warmup):
            fn(x)
        torch.cuda.synchronize()
        times = []
        t_start = time.perf_counter()
        while len(times) < max_iters and (time.perf_counter() - t_start < seconds or len(times) < 10):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn(x)
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
        wall = time.perf_counter() - t_start
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(round(q * (len(times) - 1))))]
    return {"runs": len(times), "median_ms": p(0.5), "p99_ms": p(0.99),
            "throughput": len(times) * batch / wall}


def export(dirname):
    os.makedirs(dirname, exist_ok=True)
    torch.manual_seed(0)
    r = ResNet50().eval()
    b = Bert(sdpa=False).eval()
    x = torch.randn(1, 3, 224, 224)
    ids = torch.randint(0, 30522, (1, 128))
    kw = {}
    if "dynamo" in torch.onnx.export.__code__.co_varnames:
        kw["dynamo"] = False  # the TorchScript exporter: no onnxscript needed
    for name, model, inp, iname in (("resnet50", r, x, "input"), ("bert", b, ids, "ids")):
        path = os.path.join(dirname, name + ".onnx")
        torch.onnx.export(model, (inp,), path, input_names=[iname], output_names=["output"],
                          dynamic_axes={iname: {0: "batch"}, "output": {0: "batch"}}, opset_version=17, **kw)
        print("wrote", path, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--export")
    ap.add_argument("--budget", type=float, default=150)
    ap.add_argument("--json")
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    if a.export:
        export(a.export)
        return 0
    if not torch.cuda.is_available():
        print("torch_bench: no CUDA device, nothing measured")
        return 0
    t0 = time.time()
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}", flush=True)
    rows = []
    out = open(a.json, "w") if a.json else None

    def record(model, mode, dtype, batch, res):
        row = {"engine": "torch", "model": model, "mode": mode, "dtype": dtype, "batch": batch, **res}
        rows.append(row)
        print(f"  {model:9s} {mode:8s} {dtype:5s} batch {batch:4d}: {res['throughput']:10.1f} items/s  "
              f"median {res['median_ms']:8.3f} ms  p99 {res['p99_ms']:8.3f} ms", flush=True)
        if out:
            out.write(json.dumps(row) + "\n")
            out.flush()

    torch.manual_seed(0)
    resnet = ResNet50().eval().to(dev).half().to(memory_format=torch.channels_last)
    bert = Bert().eval().to(dev).half()
    plan = [("resnet50", resnet, b, lambda b: torch.randn(b, 3, 224, 224, device=dev).half()
             .to(memory_format=torch.channels_last)) for b in (1, 32, 256)]
    plan += [("bert", bert, b, lambda b: torch.randint(0, 30522, (b, 128), device=dev)) for b in (1, 64)]
    for name, model, batch, make in plan:
        if time.time() - t0 > a.budget:
            print(f"  {name} batch {batch}: skipped (budget)")
            continue
        record(name, "eager", "fp16", batch, measure(model, make(batch), batch))
    # a fair baseline for ppengine's fp32 path
    if time.time() - t0 < a.budget:
        r32 = ResNet50().eval().to(dev).to(memory_format=torch.channels_last)
        x = torch.randn(32, 3, 224, 224, device=dev).to(memory_format=torch.channels_last)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        record("resnet50", "eager", "fp32", 32, measure(r32, x, 32))
        torch.backends.cudnn.allow_tf32 = True
        del r32
    if not a.no_compile and hasattr(torch, "compile"):
        for name, model, batch, make in ((plan[1][0], resnet, 32, plan[1][3]), (plan[4][0], bert, 64, plan[4][3])):
            if time.time() - t0 > a.budget * 0.6:
                print(f"  {name} compiled: skipped (budget)")
                continue
            try:
                cm = torch.compile(model)
                record(name, "compile", "fp16", batch, measure(cm, make(batch), batch))
            except Exception as e:  # compile needs a working Triton toolchain
                print(f"  {name} compiled: failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
    if out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
