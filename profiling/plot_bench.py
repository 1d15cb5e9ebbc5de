#!/usr/bin/env python3
"""Draws `ppengine bench --json` results: throughput against batch size, and the
latency percentiles (median, p90, p99, max) against batch size, side by side in
one PNG. Each JSON file is one run; files with the same device and stages form
one line, so several configurations can be compared in one picture.

    plot_bench.py out/bench_b*.json -o bench.png
"""
import argparse
import collections
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="+", help="files written by ppengine bench --json")
    ap.add_argument("-o", "--output", default="bench.png", help="PNG to write")
    args = ap.parse_args()

    series = collections.defaultdict(list)
    for path in args.json:
        with open(path) as f:
            r = json.load(f)
        label = f'{r["device"]}, {r["stages"]} stage(s) x {r["replicas"]} replica(s)'
        series[label].append(r)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, runs in sorted(series.items()):
        runs.sort(key=lambda r: r["batch"])
        b = [r["batch"] for r in runs]
        ax1.plot(b, [r["throughput_items_per_s"] for r in runs], marker="o", label=label)
        for key, style in (("median", "-"), ("p90", "--"), ("p99", ":"), ("max", "-.")):
            ax2.plot(b, [r["latency_ms"][key] for r in runs], style, marker=".", label=f"{key} ({label})")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.grid(True, which="both", alpha=0.3)
    ax1.set_ylabel("items / s")
    ax1.set_title("throughput")
    ax2.set_ylabel("latency per run (ms)")
    ax2.set_yscale("log")
    ax2.set_title("latency percentiles")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=7)
    graph = next(iter(series.values()))[0]["graph"]
    fig.suptitle(f"ppengine bench: {graph}")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
