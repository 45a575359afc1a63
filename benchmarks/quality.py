"""Return quality: train algorithms on recorded datasets and write a markdown table
of normalized scores (mean over seeds, with the spread) and updates/s.

    python benchmarks/quality.py --env particle/spread --levels expert medium \
        --algos macflow bc td3bc --steps 20000 --seeds 0 1 2 3 4 --eval-episodes 64 --out benchmarks/quality.md

Datasets are recorded with the suite recorder (expert, medium, medium-replay,
random; reference returns in the manifest) under ROOT (default
$MACFLOW_ARENA_HOME/datasets) unless they already exist. Real results need a
GPU budget (``--device cuda``, ``--preset paper``); a tiny CPU budget only proves
the pipeline (``--steps 200 --seeds 0 --episodes 100``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="particle/spread")
    p.add_argument("--levels", nargs="+", default=["expert", "medium"])
    p.add_argument("--algos", nargs="+", default=["macflow", "bc", "td3bc"])
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--episodes", type=int, default=1000, help="episodes per recorded dataset")
    p.add_argument("--eval-episodes", type=int, default=64)
    p.add_argument("--preset", default="small")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--window", type=int, default=20)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--root", default=None, help="datasets folder (default: $MACFLOW_ARENA_HOME/datasets)")
    p.add_argument("--runs", default=None, help="runs folder (default: a temp folder)")
    p.add_argument("--set", action="append", default=[], help="algorithm override NAME=VALUE (applied where the field exists)")
    p.add_argument("--out", default="benchmarks/quality.md")
    a = p.parse_args(argv)

    import tempfile

    import torch

    if a.threads > 0:
        torch.set_num_threads(a.threads)

    from macflow_arena.algos.registry import get
    from macflow_arena.data import datasets_dir, record_suite
    from macflow_arena.data.suite import SUITE
    from macflow_arena.train.config import TrainConfig, parse_overrides
    from macflow_arena.train.trainer import train

    root = Path(a.root) if a.root else datasets_dir()
    missing = [q for q in a.levels if not (root / default_name_for(a.env, q) / "manifest.jsonl").exists()]
    if missing:
        levels = tuple(q for q in SUITE if q in missing)
        record_suite(a.env, root, episodes=a.episodes, levels=levels, mode="create", eval_episodes=256,
                     log=lambda m: print(m, file=sys.stderr))
    runs = Path(a.runs) if a.runs else Path(tempfile.mkdtemp(prefix="quality-runs-"))
    rows = []
    for level in a.levels:
        ds = root / default_name_for(a.env, level)
        for algo in a.algos:
            cfg_cls = get(algo).Config
            known = {f for f in cfg_cls.__dataclass_fields__}
            ov = parse_overrides([s for s in a.set if s.split("=", 1)[0] in known], cfg_cls)
            scores, ups = [], []
            for seed in a.seeds:
                cfg = TrainConfig(env=a.env, dataset=str(ds), algo=algo, preset=a.preset, steps=a.steps,
                                  batch_size=a.batch_size, window=a.window, seed=seed, device=a.device, threads=a.threads,
                                  eval_every=0, eval_episodes=a.eval_episodes, ckpt_every=0, log_every=0,
                                  progress=False, tensorboard=False, out=str(runs / f"{level}-{algo}-s{seed}"),
                                  overrides=ov)
                res = train(cfg, log=lambda m: print(m, file=sys.stderr))
                scores.append(res.last_eval["normalized_score"])
                ups.append(res.updates_per_s)
            s = np.asarray(scores)
            rows.append({"dataset": level, "algo": algo, "mean": float(s.mean()), "std": float(s.std()),
                         "seeds": len(s), "updates_per_s": float(np.mean(ups)), "scores": s.tolist()})
            print(json.dumps(rows[-1]), file=sys.stderr)
    dev = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    lines = [
        f"# Normalized scores on {a.env}",
        "",
        f"{a.steps} updates, preset {a.preset}, batch {a.batch_size}x{a.window} steps, seeds {a.seeds}, "
        f"{a.eval_episodes} eval episodes per seed; device {dev} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs), torch {torch.__version__}; {time.strftime('%Y-%m-%d')}.",
        "Normalized score = 100 (R - R_random) / (R_expert - R_random) with the dataset manifest's references.",
        "",
        "| dataset | " + " | ".join(a.algos) + " |",
        "|---|" + "---|" * len(a.algos),
    ]
    for level in a.levels:
        cells = []
        for algo in a.algos:
            r = next(x for x in rows if x["dataset"] == level and x["algo"] == algo)
            cells.append(f"{r['mean']:.1f} ± {r['std']:.1f}")
        lines.append(f"| {level} | " + " | ".join(cells) + " |")
    lines += ["", "| algo | updates/s |", "|---|---|"]
    for algo in a.algos:
        u = np.mean([x["updates_per_s"] for x in rows if x["algo"] == algo])
        lines.append(f"| {algo} | {u:.1f} |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def default_name_for(env_id: str, quality: str) -> str:
    """The suite's dataset name for ``env_id`` as given (particle/spread -> particle-spread-expert)."""
    from macflow_arena.data.paths import default_name

    return default_name(env_id, quality)


if __name__ == "__main__":
    raise SystemExit(main())
