"""Time per joint decision (all agents) of ``algo.act`` at a given batch size.

Median wall time of one ``act`` call after warm-up, inside ``torch.inference_mode()``,
with whatever ``torch.set_num_threads`` the caller chose (benchmarks use 1: one core
per decision, the deployment case).
"""

from __future__ import annotations

from .timing import timed

# (label, algorithm, overrides, network forwards per decision)
INFER = [
    ("bc", "bc", {}, "1"),
    ("td3bc", "td3bc", {}, "1"),
    ("macflow (shared noise)", "macflow", {}, "1"),
    ("macflow (private noise)", "macflow", {"noise": "private"}, "1"),
    ("macflow (best of 16 by critic)", "macflow", {"exec_candidates": 16}, "1 + 2 critic heads, 16 rows"),
    ("flowbc (K=10)", "flowbc", {}, "10"),
    ("diffusion (100 steps)", "diffusion", {}, "100"),
]


def bench_spec(entities: bool = True):
    """The benchmark team: particle/spread's (3 agents, obs 14, continuous action 2), read through its
    entity layout (self, 3 landmarks, 2 other agents) as trained teams are; ``entities=False``: flat MLPs."""
    from ..algos import TeamSpec
    from ..envs.layout import registered_layout

    return TeamSpec(n_agents=3, obs_dim=14, action_dim=2,
                    entities=registered_layout("particle/spread", 14) if entities else ())


def act_latency(algo, batch: int, budget_s: float, *, min_repeats: int = 5, warmup: int = 3) -> tuple[float, int]:
    """(median seconds per ``act`` call on ``batch`` random observations, timed calls); all actions available."""
    import torch

    spec, device = algo.spec, algo.device
    obs = torch.randn(batch, spec.n_agents, spec.obs_dim, generator=torch.Generator().manual_seed(batch)).to(device)
    avail = torch.ones(batch, spec.n_agents, spec.action_dim, dtype=torch.bool, device=device) if spec.discrete else None
    gen = torch.Generator(device=device).manual_seed(0)
    with torch.inference_mode():
        return timed(lambda: algo.act(obs, gen, avail), device, min_repeats=min_repeats, budget_s=budget_s,
                     warmup=warmup)


def inference_times(preset: str, device, batches: list[int], budget: float, variants=INFER, spec=None,
                    log=None, min_repeats: int = 5) -> dict[tuple[str, int], tuple[float, int]]:
    """(label, batch) -> (median seconds per decision, timed calls) for every variant, untrained nets."""
    from ..algos import make

    spec = spec or bench_spec()
    algos = {label: make(name, spec, preset, seed=0, device=str(device), **kw) for label, name, kw, _ in variants}
    res = {}
    for b in batches:
        for label, algo in algos.items():
            if log:
                log(f"inference: {label}, batch {b}")
            res[label, b] = act_latency(algo, b, budget, min_repeats=min_repeats)
    return res
