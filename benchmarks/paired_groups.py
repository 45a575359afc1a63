"""Two groups of runs (e.g. five training seeds of macflow and five of BC on one dataset) scored
on the same held-out episodes, and the difference of their means with two 95% CIs: one that
resamples training seeds and episodes (both sources of chance), one over episodes only (the
seeds held fixed). Pairing the episodes removes their shared luck from the difference.

    python benchmarks/paired_groups.py --a RUN_s0 ... RUN_s4 --b OTHER_s0 ... OTHER_s4 --episodes 256

Runs are folders or names under $MACFLOW_ARENA_HOME/runs; ``--glob`` patterns
expand under the runs folder. ``--out FILE.json`` keeps every evaluation's per-episode returns.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _expand(refs: list[str], root: Path) -> list[str]:
    out: list[str] = []
    for r in refs:
        if any(c in r for c in "*?["):
            hits = sorted(str(p) for p in root.glob(r))
            if not hits:
                sys.exit(f"--a/--b pattern {r!r} matches nothing under {root}")
            out += hits
        else:
            out.append(r)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", nargs="+", required=True, metavar="RUN", help="first group (runs, teams or glob patterns)")
    p.add_argument("--b", nargs="+", required=True, metavar="RUN", help="second group")
    p.add_argument("--episodes", type=int, default=256)
    p.add_argument("--label", nargs=2, default=["a", "b"], metavar=("A", "B"), help="names for the table")
    p.add_argument("--out", default=None, help="write every evaluation (with per-episode returns) and the result")
    a = p.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from macflow_arena.train.paired import PairingError, group_difference
    from macflow_arena.train.config import runs_dir
    from macflow_arena.train.trainer import evaluate_run

    root = runs_dir()
    groups = [_expand(a.a, root), _expand(a.b, root)]
    evals = [[evaluate_run(r, episodes=a.episodes, keep_returns=True) for r in g] for g in groups]
    for label, g, ev in zip(a.label, groups, evals):
        for r, e in zip(g, ev):
            print(f"  {label}: {Path(r).name}: {e.get('normalized_score', e['return_mean']):.2f}", flush=True)
    try:
        d = group_difference(*evals)
    except PairingError as e:
        sys.exit(f"paired_groups: {e}")
    norm = "normalized_difference" in d
    key = "normalized_" if norm else ""
    diff = d["normalized_difference"] if norm else d["difference"]
    lo, hi = d[f"{key}ci95"]
    elo, ehi = d[f"{key}ci95_episodes"]
    unit = "normalized" if norm else "return"
    print(f"\n{d['env_id']}: {a.label[0]} ({d['seeds_a']} runs) - {a.label[1]} ({d['seeds_b']} runs), {d['episodes']} "
          f"paired episodes, {unit}: {diff:+.3f}  95% CI seeds+episodes [{lo:+.3f}, {hi:+.3f}]  episodes only "
          f"[{elo:+.3f}, {ehi:+.3f}]  (episodes whose group means differ: {d['episodes_differing']})")
    if a.out:
        Path(a.out).write_text(json.dumps({"a": groups[0], "b": groups[1], "evals": evals, "result": d}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
