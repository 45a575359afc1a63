"""Training cost: time per ``algo.update`` on a synthetic batch, or updates/s on a dataset."""

from __future__ import annotations

import time

from .inference import bench_spec
from .timing import sync, timed

# (label, algorithm, overrides)
TRAIN = [
    ("bc", "bc", {}),
    ("macflow (joint teacher)", "macflow", {}),
    ("macflow (per-agent teacher)", "macflow", {"teacher": "per_agent"}),
    ("td3bc", "td3bc", {}),
    ("flowbc", "flowbc", {}),
    ("diffusion (100 steps)", "diffusion", {}),
]


def update_times(preset: str, device, windows: int, horizon: int, budget: float, variants=TRAIN, spec=None,
                 log=None, min_repeats: int = 3) -> dict[str, tuple[float, int]]:
    """label -> (median seconds per update, timed updates) on one random batch of ``windows`` x ``horizon`` steps."""
    import torch

    from ..algos import make, random_batch

    spec = spec or bench_spec()
    batch = random_batch(spec, windows, horizon, generator=torch.Generator().manual_seed(0), device=device)
    res = {}
    for label, name, kw in variants:
        if log:
            log(f"training: {label}")
        algo = make(name, spec, preset, seed=0, device=str(device), **kw)
        res[label] = timed(lambda: algo.update(batch), device, min_repeats=min_repeats, budget_s=budget, warmup=2)
    return res


MODES = ("sync", "off", "on", "graph")


def _reader(device):
    """A sink for ``update_device`` results that reads them as the trainer does at its default
    ``--log-every`` (``train.trainer.read_every``: every 10 updates on CPU, 100 on a GPU)."""
    from ..algos.device_step import read_steps
    from ..train.config import TrainConfig
    from ..train.trainer import read_every

    every = read_every(TrainConfig.__dataclass_fields__["log_every"].default, device)
    pending: list = []

    def push(out, last: bool = False) -> None:
        pending.extend(out if isinstance(out, list) else [out])
        if len(pending) >= every * (len(out) if isinstance(out, list) else 1) or last:
            read_steps(pending)
            pending.clear()

    return push


def dataset_update_rate(data, name: str, preset: str, device: str, *, batch_size: int, window: int, updates: int,
                        warmup: int, sampling: str = "windows", compile: bool | str = False,
                        overrides: dict | None = None, precision: str = "fp32") -> float:
    """Updates/s of ``name`` with the trainer's own sampling from a device-resident dataset (``train.data``):
    ``windows`` of ``window`` steps or i.i.d. ``transitions`` (with the algorithm's n-step and gamma, as the
    trainer samples them). ``compile`` (``MODES``): ``"sync"``, eager ``algo.update`` (a host read of the
    metrics after every update: the trainer's loop before ``update_device``); ``"off"`` (or False), eager
    ``update_device`` read as the trainer reads it (``train.trainer.read_every``); ``"on"`` (or True), the losses
    through ``torch.compile`` as ``train --compile on``; ``"graph"``, the whole update replayed as a CUDA graph
    (``train --compile graph``, CUDA only). Compiling and capturing happen in the warm-up, which is not timed.
    ``overrides``: config fields (``flow_steps=2``). ``precision``: ``train --precision`` (fp32, tf32 on CUDA, bf16)."""
    mode = {True: "on", False: "off"}.get(compile, compile)
    if mode not in MODES:
        raise ValueError(f"compile mode {compile!r}: use one of {MODES}")
    from ..train.precision import apply_precision

    import torch

    from ..algos.base import config_fields
    from ..algos.registry import get, make
    from ..train.data import horizon_gamma

    kw = {"gamma": horizon_gamma(data.mean_episode_steps)} if "gamma" in config_fields(get(name).Config) else {}
    algo = make(name, data.spec, preset, seed=0, device=device, **{**kw, **(overrides or {})})  # the trainer's discount
    algo.set_obs_stats(data.obs_mean, data.obs_std)
    apply_precision(algo, precision, device, allow_slow_bf16=True)  # timed even where it is slow
    if mode == "on":
        algo.losses = torch.compile(algo.losses, dynamic=False)
    step = algo.update_device
    if mode == "graph":
        from ..algos.captured import CapturedUpdate

        step = CapturedUpdate(algo.update_device, algo, algo.optimizers, [algo.gen], device)
    if mode == "sync":
        step = algo.update
    g = torch.Generator(device=device).manual_seed(0)
    gamma, n_step = getattr(algo.config, "gamma", None), int(getattr(algo.config, "n_step", 1))

    def sample():
        if sampling == "windows":
            return data.sample(batch_size, window, g)
        return data.sample_transitions(batch_size, g, n_step=n_step, gamma=gamma)

    push = (lambda out, last=False: None) if mode == "sync" else _reader(device)
    for _ in range(max(warmup, {"on": 2, "graph": 5}.get(mode, 0))):  # graph: 3 eager, then the capture
        push(step(sample()), last=True)
    sync(device)
    t = time.perf_counter()
    for i in range(updates):
        push(step(sample()), last=i == updates - 1)
    sync(device)
    return updates / (time.perf_counter() - t)


def stacked_update_rate(data, name: str, preset: str, device: str, *, seeds: int, batch_size: int, updates: int,
                        warmup: int, overrides: dict | None = None, graph: bool = False) -> float:
    """Seed-updates/s of ``seeds`` seeds trained as one stacked update (``train --seeds ... --stack on``;
    ``algos.seed_stack``), each seed sampling its own i.i.d. transitions as the trainer does, read as the trainer reads
    (``train.trainer.read_every``). ``graph``: the stacked update replayed as a CUDA graph (``--compile graph``)."""
    import torch

    from ..algos.base import config_fields
    from ..algos.registry import get, make
    from ..algos.seed_stack import SeedStack
    from ..train.data import horizon_gamma

    kw = {"gamma": horizon_gamma(data.mean_episode_steps)} if "gamma" in config_fields(get(name).Config) else {}
    algos = []
    for s in range(seeds):
        a = make(name, data.spec, preset, seed=s, device=device, **{**kw, **(overrides or {})})
        a.set_obs_stats(data.obs_mean, data.obs_std)
        algos.append(a)
    stack = SeedStack(algos)
    update = stack.update_device
    if graph:
        from ..algos.captured import CapturedUpdate

        update = CapturedUpdate(stack.update_device, stack.host, stack.host.optimizers, [a.gen for a in algos], device)
    gens = [torch.Generator(device=device).manual_seed(s) for s in range(seeds)]
    gamma, n_step = getattr(algos[0].config, "gamma", None), int(getattr(algos[0].config, "n_step", 1))
    push = _reader(device)

    def step(last: bool) -> None:
        push(update([data.sample_transitions(batch_size, g, n_step=n_step, gamma=gamma) for g in gens]), last)

    for _ in range(max(warmup, 5 if graph else 1)):
        step(True)
    sync(device)
    t = time.perf_counter()
    for i in range(updates):
        step(i == updates - 1)
    sync(device)
    return updates * seeds / (time.perf_counter() - t)
