"""Why particle/cover is hard to learn from its expert data: three measurements.

1. The expert's trajectory: the scripted PD controller thrusts for about four
   steps, then coasts onto its landmark with near-zero actions. On the data,
   offset and velocity are proportional, so the data never shows how to
   recover from a state off that path.
2. The joint plan at step 0: how sharp a trained joint flow teacher's samples
   are on the dataset's first observations: the fraction of joint samples that
   form a permutation (every agent heading for a different landmark) and the
   fraction of agent actions within 18 degrees (cosine > 0.95) of a landmark,
   for several Euler step counts.
3. Closed loop: the teacher's coverage rate (every landmark held by exactly
   one agent at the last step) and normalized score on held-out episodes;
   then hand-offs: the script acts for the first k steps (it picks the joint
   plan and starts it), the teacher for the rest. k=1 isolates the step-0
   decision; larger k shows how well the teacher follows a plan through.

    python benchmarks/cover_probe.py --dataset particle-cover-v0-expert --updates 3000

Trains ``flowbc`` with the joint teacher in-process (batch ``--windows`` x
``--window``, 1 torch thread) and prints a markdown summary.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def expert_profile(env_id: str, seed: int = 3) -> list[tuple[int, float, float, float]]:
    """(step, mean distance to the nearest landmark, mean |velocity|, mean |action|) of the script."""
    from macflow_arena import make_vec
    from macflow_arena.envs.particle.factory import build_task
    from macflow_arena.envs.particle.scripted import CoverScript
    from macflow_arena.registry import resolve

    script = CoverScript(build_task(resolve(env_id)))
    rng = np.random.default_rng(seed)
    venv = make_vec(env_id, 64)
    obs, _ = venv.reset(seed=seed)
    n = venv.n_agents
    rows, t = [], 0
    while True:
        o = np.asarray(obs, dtype=np.float64)
        a = script.act(o, list(range(n)), np.full(o.shape[0], t == 0), rng)
        d = np.linalg.norm(o[..., 4:4 + 2 * n].reshape(*o.shape[:2], n, 2), axis=-1).min(-1)
        rows.append((t, float(d.mean()), float(np.linalg.norm(o[..., 0:2], axis=-1).mean()),
                     float(np.linalg.norm(a, axis=-1).mean())))
        obs, _, _, _, info = venv.step(a.astype(np.float32))
        t += 1
        if np.asarray(info.get("done", False)).all():
            break
    venv.close()
    return rows


def plan_sharpness(algo, data, episodes: int, steps_list, seed: int = 0):
    """[(K, permutation rate, fraction within cos 0.95 of a landmark, mean |a|)] at step 0."""
    import torch
    import torch.nn.functional as F

    from macflow_arena.algos.nets import euler

    n = data.spec.n_agents
    e = min(episodes, data.num_episodes)
    o = torch.stack([data.obs[data.obs_start[i]] for i in range(e)])
    lm = F.normalize(o[..., 4:4 + 2 * n].reshape(e, n, n, 2), dim=-1)
    g = torch.Generator().manual_seed(seed)
    out = []
    for k in steps_list:
        x = euler(algo.nets["teacher"], algo.with_id(o), torch.randn(e, n, 2, generator=g), k,
                  getattr(algo.config, "flow_target", "velocity")).clamp(-1, 1)
        cos = (lm * F.normalize(x, dim=-1)[:, :, None]).sum(-1)
        perm = (cos.argmax(-1).sort(-1).values == torch.arange(n)).all(-1).float().mean().item()
        out.append((k, perm, (cos.max(-1).values > 0.95).float().mean().item(), x.norm(dim=-1).mean().item()))
    return out


def train_teacher(algo, data, updates: int, lr: float, g, start_fraction: float, batch: int = 320) -> None:
    """Flow matching of the teacher alone on single (obs, action) steps: ``start_fraction`` of each
    batch from the episodes' first steps (1: step 0 only), the rest uniform over all steps. Prints
    the step-0 sharpness every tenth of the run."""
    import torch

    from macflow_arena.algos.base import flow_matching_loss

    if not 0 <= start_fraction <= 1:
        raise SystemExit(f"--start-fraction must be in [0, 1], got {start_fraction}")
    e = data.num_episodes
    # observation row of every step: obs_start[ep] + t for t < steps[ep]
    ep_of_step = torch.repeat_interleave(torch.arange(e), data.steps)
    t_of_step = torch.arange(data.num_steps) - data.step_start[:-1][ep_of_step]
    obs_row = data.obs_start[:-1][ep_of_step] + t_of_step
    teacher = algo.nets["teacher"]
    opt = torch.optim.Adam(teacher.parameters(), lr=lr)
    n, ad = data.spec.n_agents, data.spec.action_dim
    k0 = int(round(batch * start_fraction))
    print("| updates | permutation | within cos 0.95 |\n|---|---|---|")
    for i in range(updates):
        starts = data.step_start[:-1][torch.randint(0, e, (k0,), generator=g)]
        rest = torch.randint(0, data.num_steps, (batch - k0,), generator=g)
        rows = torch.cat([starts, rest])
        o, act = data.obs[obs_row[rows]], data.actions[rows]
        x0 = torch.randn(batch, n, ad, generator=g)
        tau = torch.rand(batch, 1, 1, generator=g)
        loss = flow_matching_loss(teacher, algo.with_id(o), act, x0, tau, torch.ones(batch, n),
                                  getattr(algo.config, "flow_target", "velocity"))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (i + 1) % max(1, updates // 10) == 0:
            with torch.no_grad():
                _, perm, sharp, _ = plan_sharpness(algo, data, 500, (10,))[0]
            print(f"| {i + 1} | {perm:.2f} | {sharp:.2f} |", flush=True)


def handoff_coverage(algo, env_id: str, k: int, worlds: int = 256, seed: int = 99) -> float:
    """Coverage at the last step when the script acts for the first ``k`` steps, then ``algo``."""
    import torch

    from macflow_arena import make_vec
    from macflow_arena.envs.particle.factory import build_task
    from macflow_arena.envs.particle.scripted import CoverScript
    from macflow_arena.registry import resolve

    script = CoverScript(build_task(resolve(env_id)))
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    venv = make_vec(env_id, worlds)
    obs, _ = venv.reset(seed=seed)
    n, t, info = venv.n_agents, 0, {}
    while True:
        o = np.asarray(obs, dtype=np.float32)
        if t < k:
            a = script.act(o.astype(np.float64), list(range(n)), np.full(worlds, t == 0), rng).astype(np.float32)
        else:
            a = algo.act(torch.from_numpy(o), gen).numpy()
        obs, _, _, _, info = venv.step(a)
        t += 1
        if np.asarray(info.get("done", False)).all():
            break
    venv.close()
    return float(np.mean(info["metrics"]["covered"]))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/cover")
    p.add_argument("--dataset", default="particle-cover-v0-expert")
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--windows", type=int, default=64)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--episodes", type=int, default=64, help="closed-loop evaluation episodes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", default="128,128,128", help="teacher widths (small preset: 128,128,128)")
    p.add_argument("--step0-only", action="store_true",
                   help="train the teacher on the episodes' first steps only (320 per update) and print the step-0 "
                        "sharpness every tenth of the run: shows when it learns to aim at the landmarks")
    p.add_argument("--start-fraction", type=float, default=None,
                   help="train the teacher on single steps (320 per update) of which this fraction are episode "
                        "starts and the rest uniform over all steps (0 = uniform; the trainer's windows are uniform)")
    p.add_argument("--run", default=None, help="probe this run's latest checkpoint (flowbc or macflow: its teacher "
                                                "for step 0, its own act for the closed loop) instead of training; "
                                                "with --step0-only, first train its teacher on step-0 data")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from macflow_arena.algos.registry import make
    from macflow_arena.train.data import load_device_dataset
    from macflow_arena.train.evaluate import evaluate

    print("## Expert (scripted) trajectory, 64 episodes\n")
    print("| step | distance to nearest landmark | speed | action norm |\n|---|---|---|---|")
    for t, d, v, u in expert_profile(a.env):
        if t < 8 or t % 5 == 0:
            print(f"| {t} | {d:.3f} | {v:.2f} | {u:.2f} |")

    data = load_device_dataset(a.dataset, a.env, device="cpu")
    if a.run:
        from macflow_arena.algos.checkpoint import load_checkpoint
        from macflow_arena.train.config import resolve_run
        from macflow_arena.train.trainer import latest_checkpoint

        ckpt = latest_checkpoint(resolve_run(a.run))
        algo = load_checkpoint(ckpt, device="cpu", spec=data.spec).algo
        if a.step0_only:  # a causal check: does training step 0 alone fix the closed loop?
            train_teacher(algo, data, a.updates, a.lr, torch.Generator().manual_seed(a.seed), 1.0)
        tuned = f", then {a.updates} updates on step-0 data only" if a.step0_only else ""
        print(f"\n## {algo.name} run {a.run} ({ckpt.name}), teacher={algo.config.teacher}{tuned}\n")
    else:
        hidden = tuple(int(h) for h in a.hidden.split(","))
        algo = make("flowbc", data.spec, "small", seed=a.seed, device="cpu", teacher="joint", lr=a.lr, hidden=hidden)
        algo.set_obs_stats(data.obs_mean, data.obs_std)
        g = torch.Generator().manual_seed(a.seed)
        t0 = time.perf_counter()
        if a.start_fraction is not None:
            train_teacher(algo, data, a.updates, a.lr, g, a.start_fraction)
            print(f"\n## Joint flow teacher {a.hidden}, {a.updates} updates, {a.start_fraction:.2f} of each batch "
                  f"from episode starts ({data.name})\n")
        elif a.step0_only:
            train_teacher(algo, data, a.updates, a.lr, g, 1.0)
            print(f"\n## Joint flow teacher {a.hidden}, {a.updates} updates on step-0 data only ({data.name})\n")
        else:
            for i in range(a.updates):
                algo.update(data.sample(a.windows, a.window, g))
                if (i + 1) % max(1, a.updates // 10) == 0:
                    print(f"  {i + 1}/{a.updates} updates, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
            print(f"\n## Joint flow teacher (flowbc, teacher=joint, lr {a.lr}, {a.hidden}), {a.updates} updates of "
                  f"{a.windows}x{a.window} on {data.name}\n")
    print("Step 0 on the dataset's first observations (500 episodes):\n")
    print("| Euler steps | joint samples that are a permutation | agent actions within cos 0.95 of a landmark | action norm |")
    print("|---|---|---|---|")
    with torch.no_grad():
        for k, perm, sharp, norm in plan_sharpness(algo, data, 500, (1, 10, 100)):
            print(f"| {k} | {perm:.2f} | {sharp:.2f} | {norm:.2f} |")
    r = evaluate(algo, a.env, episodes=a.episodes, reference=data.reference_returns)
    print(f"\nClosed loop ({a.episodes} episodes): normalized {r['normalized_score']:.1f}, "
          f"coverage {r.get('coverage_success', float('nan')):.2f}")
    print(f"\nHand-offs (256 episodes): the script acts for the first k steps, {algo.name} after\n")
    print("| k | coverage |\n|---|---|")
    for k in (0, 1, 2, 5):
        print(f"| {k} | {handoff_coverage(algo, a.env, k):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
