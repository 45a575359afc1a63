"""``macflow-arena bench``: env throughput, inference latency and training speed in one Markdown table.

Rows: env throughput of particle/spread (our VectorEnv at B=1024 and ParallelEnv,
mpe2's ``simple_spread_v3`` when mpe2 is importable, ratios ours/mpe2) and of
skirmish/3m at B=1024; per-decision inference time of each algorithm at batch 1
and 1024 (untrained small-preset nets, one torch thread, ratio to bc); training
updates/s of each algorithm on a synthetic batch (ratio of time per update to bc).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

ALGOS = ("macflow", "bc", "td3bc", "flowbc", "diffusion")
VEC_B = 1024
BATCHES = (1, 1024)
WINDOWS, HORIZON = 16, 20


@dataclass(frozen=True)
class Budget:
    env_repeats: int  # round-robin repeats of the particle/spread workloads (median reported)
    env_seconds: float  # approximate length of one repeat
    skirmish_seconds: float  # time stepping skirmish/3m
    infer_seconds: float  # repeats per inference measurement, after the minimum
    train_seconds: float  # repeats per training measurement, after the minimum
    min_repeats: int  # timed calls at least (inference; training takes min(this, 3))


FULL = Budget(env_repeats=5, env_seconds=1.0, skirmish_seconds=3.0, infer_seconds=1.0, train_seconds=2.0,
              min_repeats=5)
QUICK = Budget(env_repeats=1, env_seconds=0.2, skirmish_seconds=0.5, infer_seconds=0.02, train_seconds=0.05,
               min_repeats=1)


def _rate(x: float) -> str:
    return f"{x:,.0f}"


def env_rows(budget: Budget, log) -> tuple[list[tuple], str | None]:
    """(rows, note): particle/spread ours vs mpe2, then skirmish/3m."""
    from .env import MPE2_LABEL, measure, mpe2_parallel, ours_parallel, ours_vector, skirmish_vector

    vec, par = f"particle/spread VectorEnv B={VEC_B}", "particle/spread ParallelEnv B=1"
    workloads = {vec: ours_vector(VEC_B), par: ours_parallel()}
    note = None
    try:
        workloads[MPE2_LABEL] = mpe2_parallel()
    except ImportError:
        note = "mpe2 is not importable here, so there is no mpe2 row (`pip install mpe2` adds it)."
    log(f"env: particle/spread, {len(workloads)} configurations, {budget.env_repeats} repeat(s)")
    med = {k: statistics.median(v) for k, v in measure(workloads, budget.env_repeats, budget.env_seconds).items()}
    peer = med.get(MPE2_LABEL)
    rows = []
    for name, v in med.items():
        ratio = "1x (peer)" if name == MPE2_LABEL else (f"{v / peer:.1f}x mpe2" if peer else "")
        rows.append(("env", name, _rate(v), "agent-steps/s", ratio))
    log(f"env: skirmish/3m VectorEnv B={VEC_B}")
    rate, _, _ = skirmish_vector("skirmish/3m", VEC_B, budget.skirmish_seconds)
    rows.append(("env", f"skirmish/3m VectorEnv B={VEC_B}", _rate(rate), "agent-steps/s", ""))
    return rows, note


def inference_rows(budget: Budget, log) -> list[tuple]:
    from .inference import inference_times
    from .timing import fmt_ms

    res = inference_times("small", "cpu", list(BATCHES), budget.infer_seconds, [(a, a, {}, "") for a in ALGOS],
                          log=log, min_repeats=budget.min_repeats)
    return [("inference", f"{a}, batch {b}", fmt_ms(res[a, b][0]), "ms/decision",
             f"{res[a, b][0] / res['bc', b][0]:.2f}x bc") for b in BATCHES for a in ALGOS]


def training_rows(budget: Budget, log) -> list[tuple]:
    from .train import update_times

    res = update_times("small", "cpu", WINDOWS, HORIZON, budget.train_seconds, [(a, a, {}) for a in ALGOS], log=log,
                       min_repeats=min(budget.min_repeats, 3))
    return [("training", f"{a} (small, {WINDOWS}x{HORIZON} windows)", f"{1 / res[a][0]:.1f}", "updates/s",
             f"{res[a][0] / res['bc'][0]:.1f}x bc time") for a in ALGOS]


def run_bench(quick: bool = False, log=lambda _msg: None) -> str:
    """Measure everything (one torch thread, CPU) and return the Markdown report."""
    import torch

    from .timing import machine

    budget = QUICK if quick else FULL
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        rows, note = env_rows(budget, log)
        rows += inference_rows(budget, log)
        rows += training_rows(budget, log)
        took = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    lines = [
        f"# macflow-arena bench{' --quick' if quick else ''}",
        "",
        f"{machine()}; torch {torch.__version__}, 1 thread, CPU; {time.strftime('%Y-%m-%d')}; took {took:.0f} s.",
        "Env: random actions, `step` timed (auto-reset included); one agent-step = one agent in one world for one "
        "step. Inference: median time of one `act` call for the whole team (3 agents, obs 14, action 2), untrained "
        f"small-preset nets. Training: median time of one `update` on {WINDOWS} windows x {HORIZON} steps.",
        "",
        "| group | configuration | value | unit | ratio |",
        "|---|---|---:|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    if note:
        lines += ["", note]
    if quick:
        lines += ["", "`--quick`: short measurements, for a smoke check; drop it for numbers worth quoting."]
    return "\n".join(lines) + "\n"
