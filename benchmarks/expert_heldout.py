"""The scripted expert's score on the trainer's held-out evaluation seeds (the seeds every run is
scored on, from 2,000,000,000), normalized with the dataset's reference returns (which were
measured on other seeds, from 1,000,000,000): where trained teams stand against the script that
recorded their data, episode for episode the same start states.

    python benchmarks/expert_heldout.py skirmish/2s3z-v0 skirmish-2s3z-v0-expert --episodes 256 1024
"""
from __future__ import annotations

import argparse

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("env")
    p.add_argument("dataset", help="dataset whose reference returns normalize the score")
    p.add_argument("--episodes", type=int, nargs="+", default=[256, 1024])
    a = p.parse_args(argv)

    from macflow_arena import make_vec
    from macflow_arena.data.behaviours import evaluate, make_actor
    from macflow_arena.data.card import normalized_score
    from macflow_arena.data.manifest import read_manifest
    from macflow_arena.data.paths import resolve_dataset
    from macflow_arena.train.evaluate import EVAL_SEED

    refs = read_manifest(resolve_dataset(a.dataset)).header["reference_returns"]
    for n in a.episodes:
        venv = make_vec(a.env, num_envs=min(n, 256))
        r = evaluate(venv, make_actor(venv, {"name": "scripted"}, seed=EVAL_SEED), n, EVAL_SEED)
        sc = np.array([normalized_score(x, refs) for x in r])
        half = 1.96 * sc.std(ddof=1) / np.sqrt(n)
        print(f"{a.env}: scripted expert on {n} held-out episodes: {sc.mean():.2f} +- {half:.2f} (normalized)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
