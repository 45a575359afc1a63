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


def stuck_report(algo, o, near, d, gen, euler, torch) -> None:
    """Actions at states where agents stall: 0.1-0.3 from the nearest landmark."""
    b, n = near.shape
    lm = o[..., 4 : 4 + 2 * n].reshape(b, n, n, 2)
    off = torch.gather(lm, 2, d.argmin(-1)[..., None, None].expand(b, n, 1, 2))[:, :, 0]
    vel = o[..., 0:2]
    pd = 3.0 * off - 0.9 * vel  # the script's steer(): PD toward the landmark, clipped to the unit disc
    pd = torch.where(pd.norm(dim=-1, keepdim=True) > 1, pd / pd.norm(dim=-1, keepdim=True), pd)
    with torch.no_grad():
        state = gen.get_state()
        student = algo.act(o, gen)
        gen.set_state(state)
        teacher = euler(algo.nets["teacher"], algo.with_id(algo._obs_in(o)), torch.randn(b, n, 2, generator=gen),
                        algo.config.flow_steps, algo.config.flow_target).clamp(-1, 1)
        gen.set_state(state)
    m = (near > 0.1) & (near < 0.3)
    if not m.any():
        print("no agent 0.1-0.3 from its nearest landmark at this step")
        return
    print(f"agents 0.1-0.3 from their nearest landmark: {int(m.sum())}, mean distance {near[m].mean():.3f}, "
          f"mean speed {vel.norm(dim=-1)[m].mean():.3f}; action norm: students {student[m].norm(dim=-1).mean():.3f}, "
          f"teacher {teacher[m].norm(dim=-1).mean():.3f}, expert PD law {pd[m].norm(dim=-1).mean():.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--actor", choices=("student", "teacher"), default="student")
    p.add_argument("--exec-noise", type=float, default=1.0, help="scale of the students' noise")
    p.add_argument("--fresh", action="store_true", help="draw the noise again every step (default: once per episode)")
    p.add_argument("--episodes", type=int, default=128)
    p.add_argument("--stuck-step", type=int, default=20,
                   help="at this step, compare the students', the teacher's and the expert's PD action on agents "
                        "0.1-0.3 from their nearest landmark")
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
        if t == a.stuck_step:
            stuck_report(algo, o, near, d, gen, euler, torch)
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
