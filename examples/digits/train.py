#!/usr/bin/env python3
"""Train a small CNN on scikit-learn's bundled 8x8 handwritten digits and
export it for ppengine.

Run with the Debian interpreter (torch, numpy, scikit-learn, onnx):
    /usr/bin/python3 examples/digits/train.py

Deterministic (fixed seeds, single thread). No download: load_digits ships
inside scikit-learn. Writes next to this script:
    digits.onnx        opset 13, input 'input' (batch,1,8,8) float32,
                       output 'logits' (batch,10), dynamic batch
    digits.pt          state_dict (torch.save)
    test_x.npy         (N,1,8,8) float32 in [0,1]   (pixel / 16)
    test_y.npy         (N,) int64 labels
    torch_logits.npy   (N,10) float32, PyTorch's eval-mode logits on test_x
"""
import os
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
EPOCHS = 30
BATCH = 64
LR = 2e-3


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
            nn.MaxPool2d(2),                                   # 8x8 -> 4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def main():
    t0 = time.time()
    out = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None, :, :]   # (1797,1,8,8) in [0,1]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, stratify=y,
                                          random_state=SEED)
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t = torch.from_numpy(np.ascontiguousarray(xte))

    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(SEED)
    n = xtr.shape[0]
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = lossf(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        sched.step()
        if epoch % 10 == 9 or epoch == EPOCHS - 1:
            print("epoch %2d  train loss %.4f" % (epoch + 1, total / n))

    model.eval()
    with torch.no_grad():
        logits = model(xte_t)
    acc = (logits.argmax(1).numpy() == yte).mean()

    np.save(os.path.join(out, "test_x.npy"), np.ascontiguousarray(xte, dtype=np.float32))
    np.save(os.path.join(out, "test_y.npy"), np.ascontiguousarray(yte, dtype=np.int64))
    np.save(os.path.join(out, "torch_logits.npy"),
            np.ascontiguousarray(logits.numpy(), dtype=np.float32))
    torch.save(model.state_dict(), os.path.join(out, "digits.pt"))
    with torch.no_grad():
        torch.onnx.export(model, (xte_t[:2],), os.path.join(out, "digits.onnx"),
                          opset_version=13, input_names=["input"],
                          output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)

    print("test samples %d, test accuracy %.2f%% (%d/%d), %.1f s"
          % (len(yte), 100 * acc, int((logits.argmax(1).numpy() == yte).sum()),
             len(yte), time.time() - t0))


if __name__ == "__main__":
    main()
