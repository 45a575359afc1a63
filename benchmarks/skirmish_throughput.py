"""Skirmish throughput: agent-steps per second with random legal actions.

    python benchmarks/skirmish_throughput.py [--seconds 3] [--ids skirmish/3m skirmish/gen-10v10] [--batch 1 1024]

For every id and batch size B it steps ``make_vec(id, B)`` (auto-reset included)
with uniformly random legal actions drawn from the masks in one vectorised call,
and, for B = 1, also the PettingZoo ``ParallelEnv`` through its dict API.
An agent-step is one seat of one battle advanced by one step (B * A per
VectorEnv step, as JaxMARL counts SMAX; dead seats included), so numbers are
comparable across batch sizes. Prints a Markdown table with wall-clock rates and
rates per CPU-second of this process (steadier on a shared machine; the load
average before the run is printed too).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from macflow_arena.bench.env import skirmish_parallel as bench_parallel  # noqa: E402
from macflow_arena.bench.env import skirmish_vector as bench_vector  # noqa: E402


def skirmish_table(ids, batches, seconds: float) -> str:
    """Measure every id at every batch size; return a Markdown table (also printed row by row)."""
    lines = [
        "| env | API | B | agent-steps/s (wall) | per CPU-second | env steps timed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for env_id in ids:
        for b in batches:
            rows = []
            if b == 1:
                rate, cpu, n = bench_parallel(env_id, seconds)
                rows.append(f"| {env_id} | ParallelEnv (dict API) | 1 | {rate:,.0f} | {cpu:,.0f} | {n} |")
            rate, cpu, n = bench_vector(env_id, b, seconds)
            rows.append(f"| {env_id} | VectorEnv | {b} | {rate:,.0f} | {cpu:,.0f} | {n} |")
            for row in rows:
                print(row, flush=True)
            lines += rows
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ids", nargs="+", default=["skirmish/3m", "skirmish/gen-10v10"])
    p.add_argument("--batch", nargs="+", type=int, default=[1, 1024])
    p.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = p.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    skirmish_table(args.ids, args.batch, args.seconds)


if __name__ == "__main__":
    main()
