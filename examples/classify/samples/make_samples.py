#!/usr/bin/env python3
"""Writes the classify example's sample images from examples/digits/test_x.npy.

For each class 0-9 the first held-out digit of that class becomes
digit_<label>.ppm and digit_<label>.png (8x8), plus one 32x32 image
(digit_7-32x32.png, each pixel repeated 4x4) that exercises the resize.

The digits have 17 ink levels, value k/16 for k in 0..16. Each image stores
15*k (0..240), so `classify --scale 240` recovers k/16 exactly: the PPMs are
written with maxval 240 (exact even without --scale), the PNGs are 8-bit.
Formats vary so the test covers every decoder path: PPM P5 and P6; PNG gray,
gray+alpha, RGB and RGBA, with every PNG filter type.

    /usr/bin/python3 examples/classify/samples/make_samples.py
Needs numpy; the output is deterministic.
"""
import os
import struct
import zlib

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
digits = os.path.join(here, "..", "..", "digits")


def ppm(path, img, maxval):  # img: (H, W) or (H, W, 3) uint8
    magic = "P5" if img.ndim == 2 else "P6"
    h, w = img.shape[:2]
    with open(path, "wb") as f:
        f.write(b"%s\n# digit sample, value = 15 * ink level\n%d %d\n%d\n" % (magic.encode(), w, h, maxval))
        f.write(img.astype(np.uint8).tobytes())


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(path, img, color_type, filter_type):  # img: (H, W, C) uint8
    h, w, c = img.shape
    rows = []
    prev = np.zeros(w * c, dtype=np.int32)
    for y in range(h):
        cur = img[y].reshape(-1).astype(np.int32)
        left = np.concatenate([np.zeros(c, dtype=np.int32), cur[:-c]])
        upleft = np.concatenate([np.zeros(c, dtype=np.int32), prev[:-c]])
        ft = filter_type if filter_type >= 0 else y % 5  # -1: cycle through all five
        if ft == 0:
            out = cur
        elif ft == 1:
            out = cur - left
        elif ft == 2:
            out = cur - prev
        elif ft == 3:
            out = cur - (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
            out = cur - pred
        rows.append(bytes([ft]) + (out & 0xFF).astype(np.uint8).tobytes())
        prev = cur
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", b"Comment\x00digit sample")
    data += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def main():
    x = np.load(os.path.join(digits, "test_x.npy"))  # (540, 1, 8, 8) f32, k/16
    y = np.load(os.path.join(digits, "test_y.npy"))  # (540,) i64
    ref = np.load(os.path.join(digits, "torch_logits.npy")).argmax(1)
    levels = np.rint(x[:, 0] * 16).astype(np.int32)
    assert np.array_equal(levels / 16.0, x[:, 0]), "test_x is not k/16"
    for label in range(10):
        # the first test digit of this class that PyTorch classifies correctly
        i = int(np.flatnonzero((y == label) & (ref == label))[0])
        g = (levels[i] * 15).astype(np.uint8)  # (8, 8)
        rgb = np.stack([g, g, g], axis=-1)
        alpha = np.full_like(g, 255)
        ppm(os.path.join(here, "digit_%d.ppm" % label), g if label % 2 == 0 else rgb, 240)
        kind = label % 4  # gray, gray+alpha, RGB, RGBA
        img = [g[..., None], np.stack([g, alpha], -1), rgb, np.concatenate([rgb, alpha[..., None]], -1)][kind]
        png(os.path.join(here, "digit_%d.png" % label), img, [0, 4, 2, 6][kind], label % 5 if label < 5 else -1)
        if label == 7:
            big = np.repeat(np.repeat(g, 4, axis=0), 4, axis=1)
            png(os.path.join(here, "digit_7-32x32.png"), big[..., None], 0, -1)
    with open(os.path.join(here, "digits_labels.txt"), "w") as f:
        f.write("".join("%s\n" % n for n in
                        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]))


if __name__ == "__main__":
    main()
