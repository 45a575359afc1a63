"""What a trained tag team does on its first move, against the scripted expert, and how its critic
ranks the two. On the first observations of 64 held-out tag episodes: the team's mean |action| and
action norm, the cosine between its action and the expert's, and the critic's mean Q_i(o_i, a) at
the team's action, the expert's and a = 0.

    python benchmarks/tag_action_probe.py RUN [RUN ...]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--episodes", type=int, default=64)
    a = p.parse_args(argv)

    import torch

    import macflow_arena as ma
    from macflow_arena import make_vec
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.envs.particle.scripted import TagScript
    from macflow_arena.train.evaluate import EVAL_SEED
    from macflow_arena.train.trainer import latest_checkpoint

    torch.set_num_threads(1)
    script = TagScript(ma.make("particle/tag").task)
    o, _ = make_vec("particle/tag", a.episodes).reset(seed=EVAL_SEED)
    o = np.asarray(o, dtype=np.float32)
    n = o.shape[1]
    ex = script.act(o, list(range(n)), np.zeros(len(o), dtype=bool), None)
    print(f"expert: |a| {np.abs(ex).mean():.3f}, norm {np.linalg.norm(ex, axis=-1).mean():.3f}")
    for run in a.runs:
        algo = load_checkpoint(latest_checkpoint(Path(run))).algo
        algo.nets.eval()
        act = algo.act(torch.from_numpy(o), torch.Generator().manual_seed(0)).numpy()
        oi = algo.with_id(algo._obs_in(torch.from_numpy(o)))
        with torch.no_grad():
            q = {k: float(algo.nets["critic"](oi, torch.as_tensor(v, dtype=torch.float32)).mean())
                 for k, v in (("team", act), ("expert", ex), ("zero", np.zeros_like(act)))}
        cos = (act * ex).sum(-1) / (np.linalg.norm(act, axis=-1) * np.linalg.norm(ex, axis=-1) + 1e-8)
        print(f"{Path(run).name}: |a| {np.abs(act).mean():.3f}, norm {np.linalg.norm(act, axis=-1).mean():.3f}, "
              f"cos(expert) {cos.mean():.3f}, Q(team) {q['team']:.2f}, Q(expert) {q['expert']:.2f}, Q(0) {q['zero']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
