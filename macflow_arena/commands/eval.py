"""``macflow-arena eval``: score a trained run, or an exported team, on the batched env.

A team folder (or team name) of a one-forward algorithm evaluates in numpy, so
it needs no torch (``teams/numpy_act.py``); runs and checkpoints need torch."""

from __future__ import annotations

import argparse
import json

from . import CommandError, require_torch
from .seat_args import add_threads_option

EXAMPLES = """examples:
  macflow-arena eval particle-spread-macflow-particle-spread-v0-expert-s0 --episodes 100
  macflow-arena eval ./runs/my-run --checkpoint ./runs/my-run/checkpoints/step-00010000.safetensors --json
  macflow-arena eval spread-macflow --episodes 100      # an exported team (no torch needed)
  macflow-arena eval tag-macflow --against tag-bc --episodes 256   # both on the same episodes: the difference
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="score a trained run: mean return, 95%% CI, normalized score, win/coverage rate",
        description="Evaluate a run's latest checkpoint with decentralized execution on the batched env.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run", metavar="RUN", help="run name (under $MACFLOW_ARENA_HOME/runs) or folder, or a team "
                   "name or folder (see `macflow-arena team list`)")
    p.add_argument("--episodes", type=int, default=100, help="episodes (default 100)")
    p.add_argument("--seed", type=int, default=None, help="first evaluation seed (default: the held-out eval seed)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--checkpoint", metavar="PATH", help="a specific .safetensors checkpoint")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="execution option of the algorithm, repeatable (macflow: exec_noise=0 acts with the "
                        "noise's deterministic centre, exec_candidates=16 lets each agent's critic pick the best "
                        "of 16 student actions; bc: stochastic=true samples)")
    p.add_argument("--against", metavar="OTHER", default=None,
                   help="a second run or team to score on the same episodes (same seeds, so the same start "
                        "states): prints RUN minus OTHER with a 95%% CI over the paired episodes, far tighter "
                        "than comparing two separate scores (--set and --checkpoint apply to RUN only)")
    add_threads_option(p, "act")
    p.set_defaults(func=run)


def _team_folder(ref: str):
    """The team folder ``ref`` names (a run or checkpoint: None)."""
    from ..teams.format import TeamError
    from ..teams.load import resolve_ref

    try:
        kind, path = resolve_ref(ref)
    except TeamError:
        return None
    return path if kind == "team" else None


def _eval_team(args, folder, keep_returns: bool = False) -> dict:
    from ..teams.format import TeamError
    from ..teams.load import load_team
    from ..train.evaluate import EVAL_SEED, evaluate

    if args.checkpoint or args.set:
        raise CommandError("--checkpoint and --set are for runs; a team keeps the execution options it was "
                           "exported with")
    try:
        team = load_team(folder, backend="play")  # numpy when the algorithm has a numpy actor
        ev = team.card.get("eval") or {}
        refs = ev.get("reference_returns") or next(
            (r.get("reference_returns") for r in ev.get("per_run", []) if isinstance(r, dict) and r.get("reference_returns")), None)
        res = evaluate(team.algo, team.env_id, episodes=args.episodes, seed=EVAL_SEED if args.seed is None else args.seed,
                       reference=refs, keep_returns=keep_returns)
    except (TeamError, ValueError) as e:
        raise CommandError(str(e)) from None
    res.update(team=team.name, algo=team.algo.name, step="team", backend=getattr(team.algo, "backend", "torch"))
    return res


def _score(args, ref: str, *, own_options: bool = True, keep_returns: bool = False) -> dict:
    """Evaluate one run or team (``own_options``: --checkpoint and --set apply to it)."""
    folder = _team_folder(ref)
    if folder is not None:
        if not own_options:
            args = argparse.Namespace(**{**vars(args), "checkpoint": None, "set": []})
        return _eval_team(args, folder, keep_returns)
    require_torch("evaluation of a run (an exported team folder evaluates without torch)")
    from ..algos.checkpoint import CheckpointError
    from ..train.trainer import TrainError, evaluate_run

    try:
        return evaluate_run(ref, episodes=args.episodes, seed=args.seed, device=args.device,
                            checkpoint=args.checkpoint if own_options else None,
                            execution=args.set if own_options else None, keep_returns=keep_returns)
    except (TrainError, CheckpointError, ValueError) as e:
        raise CommandError(str(e)) from None


def _print_score(res: dict, indent: str = "  ") -> None:
    lo, hi = res["return_ci95"]
    print(f"{indent}return      {res['return_mean']:.3f}  (95% CI {lo:.3f} .. {hi:.3f})")
    if "normalized_score" in res:
        nlo, nhi = res["normalized_ci95"]
        print(f"{indent}normalized  {res['normalized_score']:.1f}  (95% CI {nlo:.1f} .. {nhi:.1f}; random 0, expert 100)")
    if "win_rate" in res:
        print(f"{indent}win rate    {res['win_rate']:.3f}")
    if "coverage_success" in res:
        print(f"{indent}coverage    {res['coverage_success']:.3f}  (every landmark covered at the last step)")


def _run_against(args) -> int:
    from ..train.paired import PairingError, paired_difference

    a = _score(args, args.run, keep_returns=True)
    b = _score(args, args.against, own_options=False, keep_returns=True)
    if a.get("env_id") != b.get("env_id"):
        raise CommandError(f"{args.run} plays {a.get('env_id')} and {args.against} plays {b.get('env_id')}: "
                           "a paired comparison needs two teams of the same env")
    try:
        diff = paired_difference(a, b)
    except PairingError as e:
        raise CommandError(str(e)) from None
    if args.json:
        strip = lambda r: {k: v for k, v in r.items() if k != "episode_returns"}  # noqa: E731
        print(json.dumps({"run": strip(a), "against": strip(b), "paired": diff}))
        return 0
    print(f"{a['env_id']}: {diff['episodes']} episodes, the same seeds for both")
    for name, res in ((args.run, a), (args.against, b)):
        print(f"  {name} ({res['algo']}, step {res['step']})")
        _print_score(res, "    ")
    lo, hi = diff["ci95"]
    print(f"  {args.run} - {args.against}: return {diff['difference']:+.3f} (paired 95% CI {lo:+.3f} .. {hi:+.3f})")
    if "normalized_difference" in diff:
        nlo, nhi = diff["normalized_ci95"]
        print(f"    normalized {diff['normalized_difference']:+.2f} (paired 95% CI {nlo:+.2f} .. {nhi:+.2f})")
    print(f"    episodes whose returns differ: {diff['episodes_differing']} of {diff['episodes']}")
    return 0


def run(args) -> int:
    if args.episodes < 1:
        raise CommandError("--episodes must be >= 1")
    from ..threads import apply_threads

    apply_threads(args.threads, "act")
    if args.against is not None:
        return _run_against(args)
    res = _score(args, args.run)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"{res['algo']} step {res['step']} on {res['env_id']}: {res['episodes']} episodes")
    _print_score(res)
    return 0
