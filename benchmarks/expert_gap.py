"""How a trained spread run falls short of the scripted expert, episode by episode: both play the
same held-out seeds; prints the mean return gap, its quantiles, and the share of the total gap held
by the worst 10% of episodes (a heavy tail means a few episodes go badly wrong rather than all a
little).

    python benchmarks/expert_gap.py RUN [RUN ...] [--episodes 256]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--episodes", type=int, default=256)
    a = p.parse_args(argv)

    import torch

    from macflow_arena import make_vec
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.envs.particle.scripted import SpreadScript
    from macflow_arena.train.evaluate import EVAL_SEED, rollout_returns
    from macflow_arena.train.trainer import latest_checkpoint

    torch.set_num_threads(1)
    venv = make_vec("particle/spread", 64)
    script = SpreadScript(venv.task)

    class Expert:
        backend = "numpy"

        def act(self, o, g, m):
            return script.act(o.astype(np.float64), list(range(o.shape[1])), np.zeros(o.shape[0], bool), g).astype(np.float32)

    ex = rollout_returns(Expert(), venv, a.episodes, EVAL_SEED)["returns"]
    print(f"expert: mean return {ex.mean():.3f} over {a.episodes} episodes")
    for run in a.runs:
        algo = load_checkpoint(latest_checkpoint(Path(run))).algo
        algo.nets.eval()
        d = rollout_returns(algo, venv, a.episodes, EVAL_SEED)["returns"] - ex
        q = np.quantile(d, [0.05, 0.1, 0.25, 0.5, 0.75])
        worst = np.sort(d)[: max(1, a.episodes // 10)].sum() / d.sum()
        print(f"{run}: gap {d.mean():.2f}; quantiles 5/10/25/50/75%: {', '.join(f'{x:.1f}' for x in q)}; "
              f"worst 10% hold {100 * worst:.0f}% of the gap")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
