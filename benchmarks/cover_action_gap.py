"""Students against their teacher on the dataset's own states, by distance to the nearest landmark.

For a MAC-Flow cover run: on the first 500 episodes of DATASET, each agent's action from the data,
from the joint teacher (K-step Euler from a noise z) and from the one-step student (the same z),
binned by the agent's distance to its nearest landmark: mean action length and squared errors
(student to teacher, teacher to data). A student that stops short shows a shorter action than its
teacher where both should still be moving.

    python benchmarks/cover_action_gap.py RUN particle-cover-v0-expert-dart0.3
"""
from __future__ import annotations

import argparse



def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("dataset")
    p.add_argument("--episodes", type=int, default=500)
    a = p.parse_args(argv)

    import torch

    from _cover_runs import run_and_episodes
    from macflow_arena.algos.nets import euler

    algo, obs, actions = run_and_episodes(a.run, a.dataset, a.episodes)
    e, n, act_dim = obs.shape[0], obs.shape[2], algo.spec.action_dim
    o = obs[:, :-1].reshape(-1, n, obs.shape[-1])
    act = actions.reshape(-1, n, act_dim)
    z = torch.randn(o.shape[0], n, act_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        oi = algo.with_id(algo._obs_in(o))
        student = algo.nets["student"](oi, algo.z_in(z)).clamp(-1, 1)
        teacher = euler(algo.nets["teacher"], oi, z, algo.config.flow_steps, algo.config.flow_target).clamp(-1, 1)
    dist = o[..., 4 : 4 + 2 * n].reshape(-1, n, n, 2).norm(dim=-1).min(-1).values
    print(f"{a.run} on {a.dataset} ({e} episodes, {algo.step} updates)")
    print("| distance to nearest landmark | agent-steps | action length: data / teacher / student "
          "| squared error: student to teacher / teacher to data |")
    print("|---|---|---|---|")
    for lo, hi in [(0, 0.05), (0.05, 0.1), (0.1, 0.2), (0.2, 0.4), (0.4, 9.0)]:
        m = (dist >= lo) & (dist < hi)
        if not m.any():
            continue
        ln = [float(x[m].norm(dim=-1).mean()) for x in (act, teacher, student)]
        st = float(((student - teacher)[m] ** 2).sum(-1).mean())
        td = float(((teacher - act)[m] ** 2).sum(-1).mean())
        print(f"| {lo}-{hi if hi < 9 else 'max'} | {int(m.sum())} | {ln[0]:.3f} / {ln[1]:.3f} / {ln[2]:.3f} "
              f"| {st:.4f} / {td:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
