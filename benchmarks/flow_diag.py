"""Where a flow policy's action error comes from, against BC, without rollouts: trains ``flowbc`` (or
``bc``) on i.i.d. batches of 512 transitions of a dataset (seed 0, 1 torch thread, cosine lr), then
on 4,000 recorded transitions prints the action MSE of K-step Euler samples from fresh noise and
from zero noise, and the x1 prediction error at fixed flow times tau.

    python benchmarks/flow_diag.py 1500 flowbc                 # defaults
    python benchmarks/flow_diag.py 1500 flowbc "lr=1e-3"       # config overrides as keyword arguments
    python benchmarks/flow_diag.py 1500 bc

The 4,000 transitions are drawn from the training data (this measures fit, not generalisation).
"""
import sys, time, torch, numpy as np
torch.set_num_threads(1)
from macflow_arena.train.data import load_device_dataset
from macflow_arena.algos.registry import make
from macflow_arena.algos.nets import euler

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
algo = sys.argv[2] if len(sys.argv) > 2 else "flowbc"
kw = eval(f"dict({sys.argv[3] if len(sys.argv) > 3 else ''})")
data = load_device_dataset(sys.argv[4] if len(sys.argv) > 4 else "particle-spread-v0-expert", None)
a = make(algo, data.spec, "small", seed=0, **kw)
a.set_obs_stats(data.obs_mean, data.obs_std)
g = torch.Generator().manual_seed(0)
lr0 = a.config.lr
t = time.time()
for i in range(steps):
    for opt in a.optimizers.values():
        for gr in opt.param_groups:
            gr["lr"] = lr0 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * i / steps)))
    m = a.update(data.sample_transitions(512, g))
print(f"{algo} {kw}: {steps} updates in {time.time() - t:.0f}s, last loss {m['loss/total']:.5f}")
gv = torch.Generator().manual_seed(1)
r = torch.randint(data.num_steps, (4000,), generator=gv)
obs, act = data.obs[data.obs_row[r]], data.actions[r]
with torch.no_grad():
    if algo != "flowbc":
        print(f"action mse {((a.act(obs, gv) - act) ** 2).mean().item():.5f}")
        raise SystemExit
    f, o, tgt = a.nets["teacher"], a.with_id(a._obs_in(obs)), a.config.flow_target
    for k in (1, 2, 5, 10, 20):
        x = euler(f, o, torch.randn(act.shape, generator=gv), k, tgt).clamp(-1, 1)
        x0 = euler(f, o, torch.zeros_like(act), k, tgt).clamp(-1, 1)
        print(f"K={k:2d}: action mse from noise {((x - act) ** 2).mean().item():.5f}, "
              f"from zero noise {((x0 - act) ** 2).mean().item():.5f}")
    for tau in (0.0, 0.3, 0.6, 0.9):
        z = torch.randn(act.shape, generator=gv)
        xt = (1 - tau) * z + tau * act
        out = f(o, xt, torch.full((*act.shape[:-1], 1), tau))
        x1 = out if tgt == "x1" else xt + (1 - tau) * out
        print(f"tau={tau}: x1 prediction mse {((x1 - act) ** 2).mean().item():.5f}")
