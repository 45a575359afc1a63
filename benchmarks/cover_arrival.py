"""Where a MAC-Flow cover team loses its episodes: plan or arrival. Runs a trained run's students
(decentralized, as teams act) or its joint teacher (centralized K-step sampling) on held-out cover
episodes and prints, every few steps, the fraction of episodes whose agents' nearest landmarks form
a permutation (a consistent joint plan), the mean distance of an agent to its nearest landmark and
the fraction of agents within the cover radius (0.1); then the coverage rate at the last step.

    python benchmarks/cover_arrival.py RUN                       # students, shared noise held per episode
    python benchmarks/cover_arrival.py RUN --fresh               # a fresh noise draw every step
    python benchmarks/cover_arrival.py RUN --actor teacher       # the joint teacher, held noise
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--actor", choices=("student", "teacher"), default="student")
    p.add_argument("--exec-noise", type=float, default=1.0, help="scale of the students' noise")
    p.add_argument("--fresh", action="store_true", help="draw the noise again every step (default: once per episode)")
    p.add_argument("--episodes", type=int, default=128)
    a = p.parse_args(argv)

    import torch

    from macflow_arena import make_vec
    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.algos.nets import euler
    from macflow_arena.train.evaluate import EVAL_SEED
    from macflow_arena.train.trainer import latest_checkpoint

    torch.set_num_threads(1)
    algo = load_checkpoint(latest_checkpoint(Path(a.run))).algo
    algo.nets.eval()
    if a.actor == "student":
        algo.set_execution(exec_noise=a.exec_noise, exec_noise_hold=not a.fresh)
    b = a.episodes
    venv = make_vec("particle/cover", b)
    obs, _ = venv.reset(seed=EVAL_SEED)
    gen = torch.Generator().manual_seed(EVAL_SEED)
    n = venv.n_agents
    z = torch.randn(b, n, 2, generator=gen)
    print(f"{a.run}: {a.actor}, {'fresh' if a.fresh else 'held'} noise, {b} episodes, {algo.step} updates")
    print("| step | plan is a permutation | mean distance to nearest landmark | agents within 0.1 |")
    print("|---|---|---|---|")
    info = {}
    for t in range(venv.max_cycles):
        o = torch.from_numpy(np.asarray(obs, dtype=np.float32))
        d = o[..., 4 : 4 + 2 * n].reshape(b, n, n, 2).norm(dim=-1)  # [B, agent, landmark]
        perm = np.mean([len(set(r.tolist())) == n for r in d.argmin(-1)])
        near = d.min(-1).values
        if t % 3 == 0 or t == venv.max_cycles - 1:
            print(f"| {t} | {perm:.2f} | {near.mean().item():.3f} | {(near < 0.1).float().mean().item():.2f} |")
        with torch.no_grad():
            if a.actor == "student":
                act = algo.act(o, gen)
            else:
                noise = torch.randn(b, n, 2, generator=gen) if a.fresh else z
                act = euler(algo.nets["teacher"], algo.with_id(algo._obs_in(o)), noise, algo.config.flow_steps,
                            algo.config.flow_target).clamp(-1, 1)
        obs, _, _, _, info = venv.step(act.numpy())
    print(f"coverage at the last step: {np.mean(info['metrics']['covered']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
