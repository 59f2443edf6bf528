#!/usr/bin/env python3
"""torch.nn.functional.linear (MKL sgemm on x86 builds) at given shapes, timed: the anchor of `bench/sgemm.ts`.

Each shape M×K·K×N is x [M, K] times a weight stored as torch stores it, [N, K] (no bias), under
torch.inference_mode() with torch.set_num_threads(--threads). Rounds go over all shapes in turn; prints one JSON
object: {"torch": version, "threads": n, "gflops": {"MxKxN": {"wall": [...], "cpu": [...]}}}, GFLOP/s per round
by wall time and per CPU-second of the process.

    python3 bench/anchors/torch_linear.py --shapes 448x768x3072,448x3072x768 --threads 1 [--rounds 5]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", required=True, help="comma-separated MxKxN")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--flop", type=float, default=4e9, help="floating-point operations per timed sample")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    out = {}
    with torch.inference_mode():
        data = [(m, k, n, torch.rand(m, k) - 0.5, torch.rand(n, k) - 0.5) for m, k, n in shapes]
        for _ in range(args.rounds):
            for m, k, n, x, w in data:
                flop = 2 * m * n * k
                reps = max(3, round(args.flop / flop))
                F.linear(x, w)
                c0, t0 = time.process_time(), time.perf_counter()
                for _ in range(reps):
                    F.linear(x, w)
                cpu, wall = time.process_time() - c0, time.perf_counter() - t0
                cell = out.setdefault(f"{m}x{k}x{n}", {"wall": [], "cpu": []})
                cell["wall"].append(flop * reps / wall / 1e9)
                cell["cpu"].append(flop * reps / cpu / 1e9)
    json.dump({"torch": torch.__version__, "threads": args.threads, "gflops": out}, __import__("sys").stdout)


if __name__ == "__main__":
    main()
