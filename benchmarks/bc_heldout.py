"""BC variants on a dataset, scored by MSE on held-out episodes (no closed loop): a cheap
way to compare encoders, learning rates, batch sizes and widths before any rollout.

    python benchmarks/bc_heldout.py particle-spread-v0-expert 2000 "entities=True" "entities=False" "lr=3e-3"

Each variant is keyword arguments of ``run`` (hidden, lr, batch, entities); the first
90% of the episodes train, the rest are held out. Seed 0, 1 torch thread, cosine lr.
"""
import sys, time, torch, numpy as np, dataclasses
torch.set_num_threads(1)
from macflow_arena.train.data import load_device_dataset
from macflow_arena.algos.registry import make
data = load_device_dataset(sys.argv[1] if len(sys.argv) > 1 else "particle-spread-v0-expert", None)
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
E = data.num_episodes; cut = int(0.9 * E)
split_row = int(data.step_start[cut])
def sub(lo, hi):
    m = torch.zeros(data.num_steps, dtype=torch.bool); m[lo:hi] = True; return m
val_rows = torch.arange(split_row, data.num_steps)
def run(name, hidden=(128,128,128), lr=1e-3, batch=512, entities=True):
    spec = data.spec if entities else dataclasses.replace(data.spec, entities=())
    a = make("bc", spec, "small", seed=0, hidden=hidden, lr=lr)
    a.set_obs_stats(data.obs_mean, data.obs_std)
    g = torch.Generator().manual_seed(0)
    t = time.time()
    for i in range(steps):
        r = torch.randint(split_row, (batch,), generator=g)
        b = data.sample_transitions(batch, g)  # for shape; replace rows
        o = a.with_id(data.obs[data.obs_row[r]])
        frac = i / steps
        for opt in a.optimizers.values():
            for gr in opt.param_groups: gr["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        mean, _ = a.nets["policy"](o)
        loss = ((mean - data.actions[r]) ** 2).mean()
        opt = a.optimizers["main"]; opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        o = a.with_id(data.obs[data.obs_row[val_rows]])
        val = ((a.nets["policy"](o)[0].clamp(-1, 1) - data.actions[val_rows]) ** 2).mean().item()
        r = torch.arange(0, split_row, 7)
        tr = ((a.nets["policy"](a.with_id(data.obs[data.obs_row[r]]))[0].clamp(-1, 1) - data.actions[r]) ** 2).mean().item()
    print(f"{name}: train {tr:.5f} val {val:.5f} ({time.time()-t:.0f}s)", flush=True)
for spec in sys.argv[3:]:
    kw = eval(f"dict({spec})")
    run(spec, **kw)
