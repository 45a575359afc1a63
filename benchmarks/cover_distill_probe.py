"""Is it the teacher or the distillation? Freeze a MAC-Flow cover run's joint teacher, precompute its
K-step Euler samples (the distillation targets) on the run's dataset, distil fresh one-step students
on them alone (no critic, no moving teacher) and play them closed loop (shared noise held per
episode, as the cover team acts). Each variant is START_SHARE:LR: the share of episode starts in the
students' batch of 256 and their Adam learning rate (cosine schedule).

    python benchmarks/cover_distill_probe.py RUN DATASET 0.5:0.001,0.25:0.001,0.25:0.003 --updates 3000

Prints, per variant, the students' squared error to the teacher on episode starts and on later
steps, and the fraction of 256 held-out episodes whose last step covers every landmark.
"""
from __future__ import annotations

import argparse
import copy
import time

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("dataset", help="dataset name or folder (the run's)")
    p.add_argument("variants", help="comma-separated START_SHARE:LR")
    p.add_argument("--updates", type=int, default=3000)
    p.add_argument("--episodes", type=int, default=256, help="closed-loop evaluation episodes")
    a = p.parse_args(argv)

    import torch

    from _cover_runs import run_and_episodes
    from macflow_arena import make_vec
    from macflow_arena.algos.nets import euler
    from macflow_arena.train.evaluate import EVAL_SEED

    algo, obs, _ = run_and_episodes(a.run, a.dataset)
    t, n, d = obs.shape[1] - 1, obs.shape[2], obs.shape[3]
    g = torch.Generator().manual_seed(0)

    def targets(o):
        z = torch.randn(o.shape[0], n, algo.spec.action_dim, generator=g)
        out = []
        with torch.no_grad():
            for i in range(0, o.shape[0], 4096):
                oi = algo.with_id(algo._obs_in(o[i:i + 4096]))
                out.append(euler(algo.nets["teacher"], oi, z[i:i + 4096], algo.config.flow_steps,
                                 algo.config.flow_target).clamp(-1, 1))
        return o, z, torch.cat(out)

    t0 = time.time()
    starts = targets(obs[:, 0].repeat(8, 1, 1))  # 8 noises per episode start
    later = obs[:, 1:t].reshape(-1, n, d)
    later = targets(later[torch.randperm(later.shape[0], generator=g)[:80000]])
    print(f"{a.run}: teacher targets precomputed in {time.time() - t0:.0f} s", flush=True)

    def coverage(student) -> float:
        algo.nets["student"] = student
        algo.set_execution(exec_noise=1.0, exec_noise_hold=True)
        venv = make_vec("particle/cover", a.episodes)
        o, _ = venv.reset(seed=EVAL_SEED)
        gen = torch.Generator().manual_seed(EVAL_SEED)
        info = {}
        for _ in range(venv.max_cycles):
            with torch.no_grad():
                act = algo.act(torch.from_numpy(np.asarray(o, dtype=np.float32)), gen)
            o, _, _, _, info = venv.step(act.numpy())
        return float(np.mean(info["metrics"]["covered"]))

    stats = {k: v for k, v in algo.nets["student"].state_dict().items() if "obs_" in k}
    for v in a.variants.split(","):
        frac, lr = (float(x) for x in v.split(":"))
        st = copy.deepcopy(algo.build()["student"])
        st.load_state_dict(stats, strict=False)  # the run's observation statistics
        opt = torch.optim.Adam(st.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.updates)
        t0 = time.time()
        ks = int(256 * frac)
        for _ in range(a.updates):
            i = torch.randint(starts[0].shape[0], (ks,), generator=g)
            j = torch.randint(later[0].shape[0], (256 - ks,), generator=g)
            o, z, y = (torch.cat([starts[k][i], later[k][j]]) for k in range(3))
            out = st(algo.with_id(algo._obs_in(o)), algo.z_in(z))
            loss = ((out - y) ** 2).mean(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            def err(pool):
                o, z, y = (x[:4096] for x in pool)
                return float(((st(algo.with_id(algo._obs_in(o)), algo.z_in(z)) - y) ** 2).sum(-1).mean())
            es, el = err(starts), err(later)
        print(f"starts {frac} lr {lr}: {a.updates} updates in {time.time() - t0:.0f} s; squared error to the "
              f"teacher: starts {es:.4f}, later steps {el:.4f}; coverage {coverage(st):.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
