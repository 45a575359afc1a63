"""What an update of one batch size costs against another, robust to a host whose speed drifts: the
algorithm's updates at each batch size are timed in alternating rounds in one process (1 torch thread,
the trainer's i.i.d. sampling), and the per-round ratios are printed with their median.

    python benchmarks/batch_cost_ratio.py --dataset particle-tag-v0-medium --algo macflow:student_lr=0.003 \\
        --batch-size 512 128 --rounds 6 --updates 15
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="particle-tag-v0-medium")
    p.add_argument("--algo", default="macflow", metavar="ALGO[:NAME=VALUE,...]")
    p.add_argument("--batch-size", type=int, nargs=2, default=[512, 128], metavar=("BASE", "OTHER"))
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--updates", type=int, default=15, help="timed updates per batch size and round")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from macflow_arena.algos.base import config_fields
    from macflow_arena.algos.registry import get, make
    from macflow_arena.train.config import parse_overrides
    from macflow_arena.train.data import horizon_gamma, load_device_dataset

    data = load_device_dataset(a.dataset, None)
    name, _, sets = a.algo.partition(":")
    overrides = parse_overrides([s for s in sets.split(",") if s], get(name).Config)
    if "gamma" in config_fields(get(name).Config):
        overrides = {"gamma": horizon_gamma(data.mean_episode_steps), **overrides}
    runs = {}
    for bs in a.batch_size:
        algo = make(name, data.spec, "small", seed=0, **overrides)
        algo.set_obs_stats(data.obs_mean, data.obs_std)
        gen = torch.Generator().manual_seed(0)
        n_step, gamma = int(getattr(algo.config, "n_step", 1)), getattr(algo.config, "gamma", None)
        runs[bs] = (algo, lambda bs=bs, gen=gen, n=n_step, g=gamma: data.sample_transitions(bs, gen, n_step=n, gamma=g))
        algo.update(runs[bs][1]())  # warm-up
    ms = {bs: [] for bs in a.batch_size}
    for _ in range(a.rounds):
        for bs, (algo, sample) in runs.items():
            t = time.perf_counter()
            for _ in range(a.updates):
                algo.update(sample())
            ms[bs].append((time.perf_counter() - t) / a.updates * 1000)
    base, other = a.batch_size
    ratios = [o / b for o, b in zip(ms[other], ms[base])]
    for bs in a.batch_size:
        print(f"batch {bs}: ms per update {statistics.median(ms[bs]):.1f} (rounds: {', '.join(f'{x:.0f}' for x in ms[bs])})")
    print(f"update of {other} / update of {base}: median {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
