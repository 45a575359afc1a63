"""``macflow-arena eval``: score a trained run on the batched env."""

from __future__ import annotations

import argparse
import json

from . import CommandError, require_torch
from .seat_args import add_threads_option

EXAMPLES = """examples:
  macflow-arena eval particle-spread-macflow-particle-spread-v0-expert-s0 --episodes 100
  macflow-arena eval ./runs/my-run --checkpoint ./runs/my-run/checkpoints/step-00010000.safetensors --json
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="score a trained run: mean return, 95%% CI, normalized score, win/coverage rate",
        description="Evaluate a run's latest checkpoint with decentralized execution on the batched env.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", metavar="RUN", help="run name (under $MACFLOW_ARENA_HOME/runs) or folder")
    p.add_argument("--episodes", type=int, default=100, help="episodes (default 100)")
    p.add_argument("--seed", type=int, default=None, help="first evaluation seed (default: the held-out eval seed)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--checkpoint", metavar="PATH", help="a specific .safetensors checkpoint")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="execution option of the algorithm, repeatable (macflow: exec_noise=0 acts with the "
                        "noise's deterministic centre; bc: stochastic=true samples)")
    add_threads_option(p, "act")
    p.set_defaults(func=run)


def run(args) -> int:
    require_torch("evaluation")
    from ..algos.checkpoint import CheckpointError
    from ..train.trainer import TrainError, evaluate_run

    if args.episodes < 1:
        raise CommandError("--episodes must be >= 1")
    from ..threads import apply_threads

    apply_threads(args.threads, "act")
    try:
        res = evaluate_run(args.run, episodes=args.episodes, seed=args.seed, device=args.device, checkpoint=args.checkpoint,
                           execution=args.set)
    except (TrainError, CheckpointError, ValueError) as e:
        raise CommandError(str(e)) from None
    if args.json:
        print(json.dumps(res))
        return 0
    lo, hi = res["return_ci95"]
    print(f"{res['algo']} step {res['step']} on {res['env_id']}: {res['episodes']} episodes")
    print(f"  return      {res['return_mean']:.3f}  (95% CI {lo:.3f} .. {hi:.3f})")
    if "normalized_score" in res:
        nlo, nhi = res["normalized_ci95"]
        print(f"  normalized  {res['normalized_score']:.1f}  (95% CI {nlo:.1f} .. {nhi:.1f}; random 0, expert 100)")
    if "win_rate" in res:
        print(f"  win rate    {res['win_rate']:.3f}")
    if "coverage_success" in res:
        print(f"  coverage    {res['coverage_success']:.3f}  (every landmark covered at the last step)")
    return 0
