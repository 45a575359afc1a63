"""The simplest thing that could work, as a yardstick for the trainer: a plain MLP
(ReLU, no entity tokens, no standardisation) regressed with MSE on i.i.d. transitions
of a dataset, then evaluated closed loop like every trained team.

    python benchmarks/mse_baseline.py --env particle/spread --dataset particle-spread-v0-expert --steps 3000

If a trainer algorithm scores clearly below this on noiseless expert data, the
pipeline (not the algorithm) is wrong. Prints the final training MSE, the
normalized score over the evaluation episodes (held-out seeds) and the time.
"""

from __future__ import annotations

import argparse
import os
import time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/spread")
    p.add_argument("--dataset", default="particle-spread-v0-expert")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--episodes", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)

    import torch

    from macflow_arena import make_vec
    from macflow_arena.train.data import load_device_dataset
    from macflow_arena.train.evaluate import EVAL_SEED, normalized, rollout_returns

    torch.set_num_threads(1)
    data = load_device_dataset(a.dataset, a.env)
    if data.spec.discrete:
        raise SystemExit("mse_baseline is for continuous actions")
    n, d, act = data.spec.n_agents, data.spec.obs_dim, data.spec.action_dim
    torch.manual_seed(a.seed)
    w = a.width
    net = torch.nn.Sequential(torch.nn.Linear(d + n, w), torch.nn.ReLU(), torch.nn.Linear(w, w), torch.nn.ReLU(),
                              torch.nn.Linear(w, w), torch.nn.ReLU(), torch.nn.Linear(w, act))
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    eye = torch.eye(n)
    g = torch.Generator().manual_seed(a.seed)
    t = time.perf_counter()
    for _ in range(a.steps):
        b = data.sample_transitions(a.batch, g)
        loss = ((net(torch.cat([b.obs[:, 0], eye.expand(a.batch, n, n)], -1)) - b.actions[:, 0]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - t

    class Actor:
        device = torch.device("cpu")

        def act(self, obs, gen, avail=None):
            with torch.no_grad():
                return net(torch.cat([obs, eye.expand(obs.shape[0], n, n)], -1)).clamp(-1, 1)

    res = rollout_returns(Actor(), make_vec(a.env, 64), a.episodes, EVAL_SEED)
    score = normalized(res["returns"].mean(), data.reference_returns)
    print(f"{a.dataset}: MLP {a.width}x3 MSE, {a.steps} updates: train MSE {loss.item():.4f}, "
          f"normalized {score:.1f} over {a.episodes} episodes ({train_s:.0f} s training)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    raise SystemExit(main())
