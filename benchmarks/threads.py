"""Training and acting speed against the number of torch CPU threads.

    python benchmarks/threads.py --out benchmarks/results/threads.md
    python benchmarks/threads.py --load 1 --out ...   # with 1 other core kept busy (a shared machine)

For each thread count (1, 2, 4, ... up to the cores, and torch's default):
ms per training update (macflow and bc, small preset, a random batch of
16 windows x 20 steps, the trainer's default) and ms per decision of a
macflow team (batch 1: play and video; batch 128: eval on the batched env).
Thread counts are interleaved round by round (``--rounds``) so that a change
in machine load hits all of them alike; the table shows the median over
rounds and each count's time relative to the fastest. ``macflow_arena.threads``
takes its defaults from these tables.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time


def _spin(stop):  # a busy core: another user's job
    x = 0
    while not stop.is_set():
        x += 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=None, help="counts to try (default 1, 2, 4 .. cores)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--budget", type=float, default=0.5, help="seconds per measurement")
    p.add_argument("--load", type=int, default=0, help="busy-looping processes to run beside (a shared machine)")
    p.add_argument("--out", default=None, help="write the markdown table here too")
    a = p.parse_args(argv)

    import torch

    from macflow_arena.algos import make, random_batch
    from macflow_arena.bench.inference import act_latency, bench_spec
    from macflow_arena.bench.timing import machine, timed

    cores = os.cpu_count() or 1
    torch_default = torch.get_num_threads()
    counts = a.threads or sorted({1, 2, *[2**k for k in range(2, 8) if 2**k <= cores], cores})
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(a.load)]
    for s in spinners:
        s.start()
    spec = bench_spec()
    batch = random_batch(spec, 16, 20, generator=torch.Generator().manual_seed(0))
    algos = {"macflow": make("macflow", spec, "small", seed=0, device="cpu"),
             "bc": make("bc", spec, "small", seed=0, device="cpu")}
    cols = ["train macflow", "train bc", "act batch 1", "act batch 128"]
    res: dict[tuple[int, str], list[float]] = {}
    t_start = time.time()
    try:
        for r in range(a.rounds):
            for n in counts:
                torch.set_num_threads(n)
                vals = [timed(lambda: algos["macflow"].update(batch), "cpu", 3, a.budget, 2)[0],
                        timed(lambda: algos["bc"].update(batch), "cpu", 3, a.budget, 2)[0],
                        act_latency(algos["macflow"], 1, a.budget)[0],
                        act_latency(algos["macflow"], 128, a.budget)[0]]
                for c, v in zip(cols, vals):
                    res.setdefault((n, c), []).append(v * 1e3)
                print(f"round {r + 1}/{a.rounds}, {n} thread(s): " + ", ".join(f"{c} {v * 1e3:.3f} ms" for c, v in zip(cols, vals)),
                      file=sys.stderr)
    finally:
        stop.set()
        for s in spinners:
            s.join()
    med = {k: statistics.median(v) for k, v in res.items()}
    best = {c: min(med[n, c] for n in counts) for c in cols}
    lines = [f"# torch threads: ms per training update and per decision ({'busy' if a.load else 'no added load'})", "",
             f"`python benchmarks/threads.py{' --load ' + str(a.load) if a.load else ''} --rounds {a.rounds}` on "
             f"{machine()}, torch {torch.__version__} (its default here: {torch_default} threads), "
             f"{a.load} busy-looping process(es) beside; median of {a.rounds} interleaved rounds, "
             f"{time.time() - t_start:.0f} s in all. In brackets: time relative to the fastest count.", "",
             "| threads | " + " | ".join(f"{c} (ms)" for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for n in counts:
        tag = f"{n}" + (" (torch default)" if n == torch_default else "")
        lines.append(f"| {tag} | " + " | ".join(f"{med[n, c]:.3f} ({med[n, c] / best[c]:.2f}x)" for c in cols) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "a" if os.path.exists(a.out) else "w") as f:
            f.write(("\n" if f.tell() else "") + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
