"""Batch-1 time per team decision: the numpy actor (``teams/numpy_act.py``) against torch's ``act``.

For every shipped team (``agents/``) that loads, else a fresh network of the
same shape (the env's spec and entity layout, the ``small`` preset: timing does
not depend on the weight values), one decision for the whole team on a real
first observation of the env: median wall time after warm-up, torch inside
``inference_mode`` with ``torch.set_num_threads(1)`` (as ``team export``
measures latency), numpy on the same single-threaded path. The ratio
torch / numpy above 1 means numpy is faster; it decides the ``play`` backend
(``load_team(..., backend="play")``).

    python benchmarks/team_numpy.py                       # prints the table
    python benchmarks/team_numpy.py --out benchmarks/results/team_numpy.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from macflow_arena.bench.timing import fmt_ms, machine, timed  # noqa: E402

CASES = [("particle/spread", "macflow"), ("particle/spread", "bc"), ("particle/spread", "td3bc"),
         ("particle/tag", "macflow"), ("particle/cover", "macflow"), ("skirmish/3m", "macflow"),
         ("skirmish/3m", "bc"), ("skirmish/3m", "vdn_cql"), ("skirmish/2s3z", "macflow")]


def _fresh(env_id: str, algo: str):
    from macflow_arena.algos import TeamSpec, make
    from macflow_arena.envs.layout import env_layout
    from macflow_arena.registry import make as make_env
    from macflow_arena.teams.policy import _action_dims, _obs_dim

    env = make_env(env_id)
    try:
        a = env.possible_agents[0]
        obs_dim = _obs_dim(env.observation_space(a))
        n_act, discrete = _action_dims(env.action_space(a))
        spec = TeamSpec(n_agents=len(env.possible_agents), obs_dim=obs_dim, action_dim=n_act, discrete=discrete,
                        entities=env_layout(env, obs_dim))
    finally:
        env.close()
    return make(algo, spec, "small", seed=0)


def _algo(env_id: str, algo: str):
    """(torch algorithm, source): the shipped team when it loads, else a fresh network of its shape."""
    from macflow_arena.resources import agents_dir
    from macflow_arena.teams import load_team
    from macflow_arena.teams.format import TeamError

    short = {"particle/spread": "spread", "particle/tag": "tag", "particle/cover": "cover", "skirmish/3m": "3m",
             "skirmish/2s3z": "2s3z"}[env_id]
    folder = agents_dir() / f"{short}-{algo}"
    if folder.is_dir():
        try:
            return load_team(folder, backend="torch").algo, f"agents/{folder.name}"
        except TeamError:
            pass
    return _fresh(env_id, algo), "fresh (small preset)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of timed calls per cell (default 1)")
    ap.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    args = ap.parse_args()
    from macflow_arena.teams.latency import first_observation
    from macflow_arena.teams.numpy_act import NumpyActor

    torch.set_num_threads(1)
    rows = ["| env | algo | network | torch ms/decision | numpy ms/decision | torch / numpy |", "|---|---|---|---|---|---|"]
    for env_id, name in CASES:
        algo, source = _algo(env_id, name)
        algo.nets.eval()
        actor = NumpyActor.from_algo(algo)
        o, m = first_observation(env_id)
        ot, mt = torch.from_numpy(o), None if m is None else torch.from_numpy(m)
        gen, rng = torch.Generator().manual_seed(0), np.random.default_rng(0)
        with torch.inference_mode():
            t_torch, _ = timed(lambda: algo.act(ot, gen, mt), "cpu", min_repeats=50, budget_s=args.budget, warmup=20)
        t_np, _ = timed(lambda: actor.act(o, rng, m), "cpu", min_repeats=50, budget_s=args.budget, warmup=20)
        rows.append(f"| {env_id} | {name} | {source} | {fmt_ms(t_torch)} | {fmt_ms(t_np)} | {t_torch / t_np:.2f}x |")
        print(rows[-1], flush=True)
    text = "\n".join(rows)
    print()
    print(text)
    if args.out:
        cmd = "python benchmarks/team_numpy.py" + (f" --budget {args.budget}" if args.budget != 1.0 else "")
        args.out.write_text(
            "# Team decisions at batch 1: numpy vs torch (`benchmarks/team_numpy.py`)\n\n"
            "Median wall time of one decision for the whole team on the env's first observation, after "
            "warm-up; torch with 1 thread inside `inference_mode`. torch / numpy > 1: numpy is faster.\n\n"
            f"Command: `{cmd}`\n\nMachine: {machine()}; torch {torch.__version__}, numpy {np.__version__}\n\n"
            + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
