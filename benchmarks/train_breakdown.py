"""Where a MAC-Flow update's time goes: time per update of BC, MA-TD3+BC and MAC-Flow
with one part switched off at a time, same batch, same process, 1 thread.

    python benchmarks/train_breakdown.py --updates 40

Batch: 16 windows x 20 steps of a 3-agent team (obs 18, continuous actions of size 2),
the small preset (3x128). Ratios are against BC's update. The variants are not
algorithms to use: each removes one piece (the teacher's K-step Euler target, the
second critic head, the attention teacher) to show its share of the cost.
"""

from __future__ import annotations

import argparse
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--updates", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--preset", default="small")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from macflow_arena.algos import TeamSpec, make, random_batch

    spec = TeamSpec(n_agents=3, obs_dim=18, action_dim=2)
    batch = random_batch(spec, 16, 20, generator=torch.Generator().manual_seed(0))
    variants = [
        ("bc", "bc", {}),
        ("td3bc", "td3bc", {}),
        ("macflow (defaults: joint teacher, K=10, 2 critic heads)", "macflow", {}),
        ("macflow, per-agent teacher", "macflow", {"teacher": "per_agent"}),
        ("macflow, K=1 Euler step for the distillation target", "macflow", {"flow_steps": 1}),
        ("macflow, 1 critic head", "macflow", {"ensemble": 1}),
    ]
    rows = []
    for label, name, kw in variants:
        algo = make(name, spec, a.preset, **kw)
        for _ in range(a.warmup):
            algo.update(batch)
        t = time.perf_counter()
        for _ in range(a.updates):
            algo.update(batch)
        rows.append((label, (time.perf_counter() - t) / a.updates * 1e3))
    bc = rows[0][1]
    print(f"| variant ({a.preset} preset, 1 thread, {a.updates} updates) | ms per update | vs bc |\n|---|---|---|")
    for label, ms in rows:
        print(f"| {label} | {ms:.1f} | {ms / bc:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
