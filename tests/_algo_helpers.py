"""Shared helpers for the algorithm tests: tiny specs, tiny configs, datasets.

Import only after ``pytest.importorskip("torch")``.
"""

from __future__ import annotations

import torch

from macflow_arena.algos import ALGOS, Batch, TeamSpec, make

# Tiny networks run fastest on one thread (and the test machine is shared).
torch.set_num_threads(1)

CONT = TeamSpec(n_agents=3, obs_dim=6, action_dim=2)
DISC = TeamSpec(n_agents=3, obs_dim=6, action_dim=5, discrete=True)

# (case id, algorithm, discrete, overrides): every algorithm on every action space
# it supports, plus MAC-Flow's as-coded variants.
CASES = [
    ("macflow-cont", "macflow", False, {}),
    ("macflow-cont-peragent-private", "macflow", False, {"teacher": "per_agent", "noise": "private"}),
    ("macflow-disc", "macflow", True, {}),
    ("bc-cont", "bc", False, {}),
    ("bc-disc", "bc", True, {}),
    ("td3bc-cont", "td3bc", False, {}),
    ("flowbc-cont", "flowbc", False, {}),
    ("flowbc-disc", "flowbc", True, {}),
    ("diffusion-cont", "diffusion", False, {}),
    ("vdn_cql-disc", "vdn_cql", True, {}),
]
CASE_IDS = [c[0] for c in CASES]
CRITIC_ALGOS = ["macflow", "td3bc", "diffusion", "vdn_cql"]

TINY = {"hidden": (32, 32)}
TINY_EXTRA = {"diffusion": {"steps": 10}, "macflow": {"flow_steps": 4}, "flowbc": {"flow_steps": 4}}


def spec_for(discrete: bool) -> TeamSpec:
    return DISC if discrete else CONT


def tiny(name: str, discrete: bool, seed: int = 0, **overrides):
    kw = {**TINY, **TINY_EXTRA.get(name, {}), **overrides}
    return make(name, spec_for(discrete), "small", seed=seed, **kw)


def single_and_stacked(name: str, discrete: bool, seeds: list[int], updates: int = 3, **overrides):
    """The same seeds trained as single runs and as one seed stack, each seed on its own batch
    stream; returns (single runs, the stack after ``write_back``)."""
    from macflow_arena.algos import random_batch
    from macflow_arena.algos.seed_stack import SeedStack

    single = [tiny(name, discrete, seed=s, **overrides) for s in seeds]
    stack = SeedStack([tiny(name, discrete, seed=s, **overrides) for s in seeds])
    g1 = [torch.Generator().manual_seed(50 + s) for s in seeds]
    g2 = [torch.Generator().manual_seed(50 + s) for s in seeds]
    for _ in range(updates):
        for a, g in zip(single, g1):
            a.update(random_batch(a.spec, 16, 1, generator=g))
        stack.update([random_batch(single[0].spec, 16, 1, generator=g) for g in g2])
    stack.write_back()
    return single, stack


def supported(name: str, discrete: bool) -> bool:
    cls = ALGOS[name]
    return cls.discrete_ok if discrete else cls.continuous_ok


def expert_dataset(spec: TeamSpec, episodes: int = 64, horizon: int = 6, seed: int = 0) -> Batch:
    """Windows whose actions are a fixed function of the observations (learnable),
    reward = a smooth function of the observation, some windows padded."""
    from macflow_arena.algos import random_batch

    g = torch.Generator().manual_seed(seed)
    b = random_batch(spec, episodes, horizon, generator=g)
    o = b.obs[:, :-1]
    if spec.discrete:
        scores = o[..., : spec.action_dim] if spec.obs_dim >= spec.action_dim else o[..., :1].expand(*o.shape[:-1], spec.action_dim)
        avail = b.avail.clone()
        avail[:, :-1] = True
        acts = scores.argmax(-1)
        b = b.replace(actions=acts, avail=avail)
    else:
        b = b.replace(actions=torch.tanh(1.5 * o[..., : spec.action_dim] - 0.5 * o[..., 1:2]))
    rewards = (o[..., 0].mean(-1) * b.mask).clone()
    return b.replace(rewards=rewards).validate(spec)


def minibatch(data: Batch, size: int, g: torch.Generator) -> Batch:
    idx = torch.randint(0, data.B, (size,), generator=g)
    return Batch(**{k: (None if v is None else v[idx]) for k, v in data.__dict__.items()})


_RESUME_DATA: dict[bool, Batch] = {}


def resume_batch(spec: TeamSpec, step: int) -> Batch:
    """The batch of update ``step`` in the resume tests: a function of the step only."""
    if spec.discrete not in _RESUME_DATA:
        _RESUME_DATA[spec.discrete] = expert_dataset(spec, episodes=16)
    return minibatch(_RESUME_DATA[spec.discrete], 8, torch.Generator().manual_seed(1000 + step))
