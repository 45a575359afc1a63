"""Where a MAC-Flow run's action error is: its decentralized student against its (joint) teacher,
on recorded transitions, without rollouts.

    python benchmarks/distill_gap.py RUN [RUN ...]            # trained runs (macflow or any other algorithm)
    python benchmarks/distill_gap.py RUN --probe --steps 1000  # distil RUN's finished teacher into fresh students
    python benchmarks/distill_gap.py RUN [RUN ...] --against BC_RUN   # discrete actions: argmax agreement

For each run: the action MSE against the data on 4,000 transitions drawn from the run's dataset (seed 123;
this measures fit, not generalisation) of the student at the noise centre, the teacher integrated from the
centre with 10 and 2 Euler steps, and the student and teacher from one draw of noise; for other algorithms
their ``act``. ``--probe`` trains fresh students (seed 1, the run's architecture, 1 torch thread, Adam,
cosine learning rate, ``--rows`` rows per update) for ``--steps`` updates against three targets: the frozen
teacher's Euler output from random noise (what macflow distils), from the centre, and the data's action
(plain regression), at each ``--lrs`` learning rate, and prints their MSE against the data and the teacher.
Discrete actions have no action MSE: for them each policy's masked argmax is compared with the data's
action (and with ``--against``'s argmax, e.g. a BC run on the same dataset), over alive agents.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _load(ref: str):
    """A run's latest checkpoint (the trainer's own lookup) and its dataset's path."""
    import json

    from macflow_arena.algos.checkpoint import load_checkpoint
    from macflow_arena.train.config import resolve_run
    from macflow_arena.train.trainer import TrainError, latest_checkpoint

    run = resolve_run(ref)
    try:
        ckpt = latest_checkpoint(run)
    except TrainError as e:
        raise SystemExit(str(e)) from None
    dataset = json.loads((run / "config.json").read_text())["dataset"]["path"]
    return load_checkpoint(ckpt).algo, dataset


def _held(algo, dataset: str, n: int = 4000):
    import torch

    from macflow_arena.train.data import load_device_dataset

    data = load_device_dataset(dataset, None)
    b = algo.prepare(data.sample_transitions(n, torch.Generator().manual_seed(123), n_step=1, gamma=0.99))
    return data, b


def gaps(algo, b) -> dict[str, float]:
    import torch

    from macflow_arena.algos.nets import euler

    n, a = algo.spec.n_agents, algo.spec.action_dim
    o = algo.with_id(b.obs[:, :-1])
    out = {}
    with torch.no_grad():
        if algo.name == "macflow" and not algo.spec.discrete:
            z0 = torch.zeros(o.shape[0], 1, n, a)
            zr = torch.randn(o.shape[0], 1, n, a, generator=torch.Generator().manual_seed(5))
            out["student, centre"] = algo.nets["student"](o, algo.z_in(z0))
            out["teacher K=10, centre"] = euler(algo.nets["teacher"], o, z0, 10, algo.config.flow_target)
            out["teacher K=2, centre"] = euler(algo.nets["teacher"], o, z0, 2, algo.config.flow_target)
            out["student, one draw"] = algo.nets["student"](o, algo.z_in(zr))
            out["teacher K=10, one draw"] = euler(algo.nets["teacher"], o, zr, 10, algo.config.flow_target)
        elif not algo.spec.discrete:
            out["act"] = algo.act(b.obs[:, 0], torch.Generator().manual_seed(0)).unsqueeze(1)
        else:
            raise SystemExit(f"{algo.name}: discrete actions have no action MSE; see agreement()")
    return {k: float(((v.clamp(-1, 1) - b.actions) ** 2).mean()) for k, v in out.items()}


MODE_DRAWS = 32


def agreement(algo, b, ref=None) -> dict[str, float]:
    """Discrete actions: the share of alive agents whose masked argmax matches the data's action (and
    ``ref``'s argmax, ``[B, N]`` actions of another policy on the same rows): a macflow run's student and
    teacher at the noise centre, the teacher's most frequent action over ``MODE_DRAWS`` draws (the mode of its
    marginal, what a classifier such as BC aims at), and its student against its teacher from one draw;
    other algorithms' act."""
    import torch

    from macflow_arena.algos.base import sanitize_avail
    from macflow_arena.algos.nets import euler, masked_argmax

    obs, avail, act = b.obs[:, 0], b.avail[:, 0], b.actions[:, 0]
    alive = b.alive[:, 0] > 0
    out = {}
    with torch.no_grad():
        if algo.name == "macflow":
            n, a = algo.spec.n_agents, algo.spec.action_dim
            o, av = algo.with_id(algo._obs_in(obs)), sanitize_avail(avail)
            z0 = torch.zeros(o.shape[0], n, a)
            zr = torch.randn(o.shape[0], n, a, generator=torch.Generator().manual_seed(5))
            out["student, centre"] = masked_argmax(algo.nets["student"](o, algo.z_in(z0)), av)
            out["teacher K=10, centre"] = masked_argmax(euler(algo.nets["teacher"], o, z0, 10, algo.config.flow_target), av)
            g = torch.Generator().manual_seed(6)  # the teacher's marginal: its most frequent action over draws
            votes = sum(torch.nn.functional.one_hot(masked_argmax(euler(
                algo.nets["teacher"], o, torch.randn(o.shape[0], n, a, generator=g), 10, algo.config.flow_target),
                av), a) for _ in range(MODE_DRAWS))
            out[f"teacher K=10, mode of {MODE_DRAWS} draws"] = masked_argmax(votes.float(), av)
            draw = (masked_argmax(algo.nets["student"](o, algo.z_in(zr)), av),
                    masked_argmax(euler(algo.nets["teacher"], o, zr, 10, algo.config.flow_target), av))
        else:
            out["act"] = algo.act(obs, torch.Generator().manual_seed(0), avail=avail)
            draw = None

    def share(x, y) -> float:
        return float((x == y)[alive].float().mean())

    res = {f"{k} ~ data": share(v, act) for k, v in out.items()}
    if ref is not None:
        res.update({f"{k} ~ reference": share(v, ref) for k, v in out.items()})
    if draw is not None:
        res["student ~ teacher, one draw"] = share(*draw)
    return res


def probe(teacher_algo, data, held, steps: int, rows: int, lr: float, target: str) -> tuple[float, float]:
    """A fresh student distilled from ``teacher_algo``'s frozen teacher (``target``: 'draw', 'centre') or
    regressed on the data ('data'); returns (MSE against the data, against the teacher's centre)."""
    from types import SimpleNamespace

    import torch

    from macflow_arena.algos.nets import euler
    from macflow_arena.algos.registry import make
    from macflow_arena.train.trainer import lr_scale

    schedule = SimpleNamespace(lr_decay="cosine", steps=steps)  # the trainer's cosine schedule
    t = teacher_algo
    n, a = t.spec.n_agents, t.spec.action_dim
    fresh = make("macflow", t.spec, None, seed=1, **{k: getattr(t.config, k) for k in ("hidden", "noise")})
    fresh.set_obs_stats(data.obs_mean, data.obs_std)
    student = fresh.nets["student"]
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    oh = t.with_id(held.obs[:, :-1])
    zc = torch.zeros(oh.shape[0], 1, n, a)
    with torch.no_grad():
        teacher_centre = euler(t.nets["teacher"], oh, zc, 10, t.config.flow_target).clamp(-1, 1)
    for i in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * lr_scale(schedule, i)
        b = t.prepare(data.sample_transitions(rows, g, n_step=1, gamma=0.99))
        o = t.with_id(b.obs[:, :-1])
        z = torch.randn(rows, 1, n, a, generator=g) * (1.0 if target == "draw" else 0.0)
        if target == "data":
            y = b.actions
        else:
            with torch.no_grad():
                y = euler(t.nets["teacher"], o, z, 10, t.config.flow_target).clamp(-1, 1)
        loss = ((student(o, t.z_in(z)) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        mu = student(oh, t.z_in(zc)).clamp(-1, 1)
    return float(((mu - held.actions) ** 2).mean()), float(((mu - teacher_centre) ** 2).mean())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="run names (under $MACFLOW_ARENA_HOME/runs) or folders")
    p.add_argument("--probe", action="store_true", help="distil each macflow run's teacher into fresh students")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--rows", type=int, default=256)
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    p.add_argument("--against", metavar="RUN", help="discrete actions: also compare with this run's argmax "
                                                    "(e.g. BC on the same dataset)")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    for ref in a.runs:
        algo, dataset = _load(ref)
        data, held = _held(algo, dataset)
        name = Path(ref).name
        if algo.spec.discrete:
            against = None
            if a.against:
                ref_algo, _ = _load(a.against)
                with torch.no_grad():
                    against = ref_algo.act(held.obs[:, 0], torch.Generator().manual_seed(0), avail=held.avail[:, 0])
            for k, v in agreement(algo, held, against).items():
                print(f"{name}  {k:34s} agreement {v:.3f}", flush=True)
            if a.probe:
                raise SystemExit(f"{name}: --probe needs continuous actions")
            continue
        for k, v in gaps(algo, held).items():
            print(f"{name}  {k:24s} action MSE {v:.5f}", flush=True)
        if a.probe:
            if algo.name != "macflow":
                raise SystemExit(f"{name}: --probe needs a macflow run (got {algo.name})")
            for lr in a.lrs:
                for target in ("draw", "centre", "data"):
                    vs_data, vs_teacher = probe(algo, data, held, a.steps, a.rows, lr, target)
                    print(f"{name}  probe lr {lr:g}, target {target:6s}: student MSE vs data {vs_data:.5f}, "
                          f"vs teacher {vs_teacher:.5f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
