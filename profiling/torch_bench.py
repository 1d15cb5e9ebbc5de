#!/usr/bin/env python3
"""torch_bench.py: the PyTorch side of profiling/device-check.sh, on the GPU machine.

Models (random weights from fixed seeds; torchvision's definitions where it has them):
  resnet50   torchvision ResNet-50
  vit_b16    torchvision ViT-B/16
  bert       a BERT-base-shaped encoder: 12 layers, d 768, 12 heads, FFN 3072, GELU,
             post-norm, token + position embeddings, sequence 128

  export DIR --rows R,...   writes DIR/MODEL.onnx (f32, batch axis dynamic, plain ops for
                            a clean export), and per row "model:batch" the input
                            DIR/MODEL_bB.in.npy and PyTorch's f32 output on it
                            DIR/MODEL_bB.ref.npy (computed on the GPU, TF32 off)
  bench --rows R,... --json FILE [--budget S] [--no-compile]
                            per row "model:batch:precision" (fp16, bf16, fp32, tf32):
                            eager (channels_last for CNNs) in that precision under
                            no_grad, then torch.compile where it compiles within the
                            budget; writes one JSON object per row:
                            {"model", "batch", "precision", "eager_per_s",
                             "compile_per_s" (or null), "eager_p50_ms"}
Timing: CUDA events around each run after a warm-up; throughput = items over the
timed window, p50 the median run.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


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


def make_model(name, export=False):
    torch.manual_seed(0)
    if name == "resnet50":
        import torchvision
        return torchvision.models.resnet50(weights=None).eval(), True
    if name == "vit_b16":
        import torchvision
        return torchvision.models.vit_b_16(weights=None).eval(), False
    if name == "bert":
        return Bert(sdpa=not export).eval(), False
    raise SystemExit(f"torch_bench: unknown model {name}")


def make_input(name, batch, seed=1):
    g = torch.Generator().manual_seed(seed * 1000 + batch)
    if name == "bert":
        return torch.randint(0, 30522, (batch, 128), generator=g)
    return torch.randn(batch, 3, 224, 224, generator=g)


def export(dirname, rows):
    os.makedirs(dirname, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    kw = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
    models = sorted({r.split(":")[0] for r in rows})
    for name in models:
        model, _ = make_model(name, export=True)
        inp = make_input(name, 1)
        iname = "ids" if name == "bert" else "input"
        path = os.path.join(dirname, name + ".onnx")
        t0 = time.time()
        torch.onnx.export(model, (inp,), path, input_names=[iname], output_names=["output"],
                          dynamic_axes={iname: {0: "batch"}, "output": {0: "batch"}}, opset_version=17, **kw)
        print(f"wrote {path} in {time.time() - t0:.1f}s", flush=True)
        dev = model.cuda()
        for r in rows:
            m, b = r.split(":")[:2]
            if m != name:
                continue
            x = make_input(name, int(b))
            with torch.no_grad():
                y = dev(x.cuda()).float().cpu().numpy()
            np.save(os.path.join(dirname, f"{name}_b{b}.in.npy"), x.numpy())
            np.save(os.path.join(dirname, f"{name}_b{b}.ref.npy"), y)
        del dev
        torch.cuda.empty_cache()


def measure(fn, x, batch, seconds=1.0, warmup=5, max_iters=300):
    with torch.no_grad():
        for _ in range(warmup):
            fn(x)
        torch.cuda.synchronize()
        times = []
        t_start = time.perf_counter()
        while len(times) < max_iters and (time.perf_counter() - t_start < seconds or len(times) < 5):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn(x)
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1))
        wall = time.perf_counter() - t_start
    times.sort()
    return len(times) * batch / wall, times[len(times) // 2]


DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32, "tf32": torch.float32}


def bench(rows, budget, out, no_compile):
    t0 = time.time()
    torch.backends.cudnn.benchmark = True
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
          f"{torch.cuda.get_device_name(0)}", flush=True)
    f = open(out, "w")
    for r in rows:
        name, batch, prec = r.split(":")
        batch = int(batch)
        rec = {"model": name, "batch": batch, "precision": prec, "eager_per_s": None, "compile_per_s": None,
               "eager_p50_ms": None}
        if time.time() - t0 > budget:
            print(f"  {r}: skipped (budget)", flush=True)
            f.write(json.dumps(rec) + "\n")
            continue
        tf32 = prec == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        model, cnn = make_model(name)
        dt = DTYPES[prec]
        model = model.cuda().to(dt)
        x = make_input(name, batch).cuda()
        if name != "bert":
            x = x.to(dt)
        if cnn:
            model = model.to(memory_format=torch.channels_last)
            x = x.to(memory_format=torch.channels_last)
        thr, p50 = measure(model, x, batch)
        rec["eager_per_s"], rec["eager_p50_ms"] = thr, p50
        if not no_compile and time.time() - t0 < budget * 0.7:
            try:
                cm = torch.compile(model)
                rec["compile_per_s"] = measure(cm, x, batch)[0]
            except Exception as e:  # compile needs a working Triton toolchain
                print(f"  {r}: compile failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})", flush=True)
        print(f"  {name:9s} b{batch:<4d} {prec:5s} eager {thr:10.1f}/s p50 {p50:7.3f} ms  compile "
              f"{rec['compile_per_s'] or 0:10.1f}/s", flush=True)
        f.write(json.dumps(rec) + "\n")
        f.flush()
        del model, x
        torch.cuda.empty_cache()
    f.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["export", "bench"])
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--rows", required=True)
    ap.add_argument("--json")
    ap.add_argument("--budget", type=float, default=150)
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    rows = [r for r in a.rows.split(",") if r]
    if not torch.cuda.is_available():
        print("torch_bench: no CUDA device")
        return 2
    if a.what == "export":
        export(a.dir, rows)
    else:
        bench(rows, a.budget, a.json, a.no_compile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
