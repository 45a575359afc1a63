"""``macflow-arena behave``: train and evaluate behaviour policies (SB3 PPO with parameter sharing)."""

from __future__ import annotations

import argparse
import sys

from . import CommandError

EXAMPLES = """examples:
  macflow-arena behave train particle/spread --steps 50000000 --max-minutes 25 --eval-every 2000000 --out ppo_spread.zip
  macflow-arena behave eval particle/spread --model ppo_spread.zip
  macflow-arena record particle/spread --behavior sb3 --model ppo_spread.zip --quality mixed

Needs the optional extra: pip install "macflow-arena[sb3]". Models go to
$MACFLOW_ARENA_HOME/behaviours/<env>-ppo.zip unless --out is given; a JSON card
(env id, scenario hash, spaces, hyperparameters, learning curve) is saved next to the model.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "behave",
        help="train or evaluate an SB3 PPO behaviour policy",
        description="Behaviour policies for datasets: PPO with one network shared by all agents "
        "(each world-agent pair is one SB3 env).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="behave_command", metavar="ACTION")
    t = sub.add_parser("train", help="train PPO and save a real SB3 model (.zip)")
    t.add_argument("env", metavar="ENV")
    t.add_argument("--steps", type=int, required=True, help="agent-steps of experience (each agent counts); the learning rate and clip range "
                   "anneal to 0 over --steps or --max-minutes, whichever ends first")
    t.add_argument("--out", metavar="PATH", help="model file (.zip)")
    t.add_argument("--num-envs", type=int, default=None,
                   help="worlds stepped together per rollout (default: the tuned PPO_DEFAULTS value)")
    t.add_argument("--max-minutes", type=float, default=None, help="stop (and save) after this much wall time")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--eval-every", type=int, default=0,
                   help="log the deterministic policy's eval return every N agent-steps (and at the end)")
    t.add_argument("--eval-episodes", type=int, default=256, help="held-out episodes per eval (default 256)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    e = sub.add_parser("eval", help="mean return of a saved model vs the reference returns")
    e.add_argument("env", metavar="ENV")
    e.add_argument("--model", required=True, metavar="PATH")
    e.add_argument("--episodes", type=int, default=1024)
    p.set_defaults(func=run, parser=p)


def _sb3():
    try:
        from ..data import sb3
    except ImportError as err:
        raise CommandError(str(err)) from None
    return sb3


def run(args) -> int:
    from ..registry import resolve

    action = getattr(args, "behave_command", None)
    if action is None:
        args.parser.print_help(sys.stderr)
        return 2
    entry = resolve(args.env)
    if action == "train":
        from pathlib import Path

        from ..data.paths import home_dir

        if args.steps < 1 or (args.num_envs is not None and args.num_envs < 1) or args.eval_episodes < 1:
            raise CommandError("--steps, --num-envs and --eval-episodes must be >= 1")
        if args.max_minutes is not None and args.max_minutes <= 0:
            raise CommandError("--max-minutes must be > 0")
        out = Path(args.out) if args.out else home_dir() / "behaviours" / f"{entry.id.replace('/', '-')}-ppo.zip"
        try:
            extra = {"num_envs": args.num_envs} if args.num_envs is not None else {}
            _sb3().train_ppo(entry.id, out, steps=args.steps, seed=args.seed, **extra,
                             eval_every=args.eval_every, eval_episodes=args.eval_episodes,
                             log=lambda s: print(s, file=sys.stderr), progress=not args.no_progress,
                             max_seconds=args.max_minutes * 60 if args.max_minutes else None)
        except ValueError as err:
            raise CommandError(str(err)) from None
        print(out.with_suffix(".zip"))
        return 0
    from .. import make_vec
    from ..data.behaviours import evaluate
    from ..data.card import normalized_score
    from ..data.suite import EVAL_SEED, reference_returns

    sb3 = _sb3()
    venv = make_vec(entry.id, num_envs=min(args.episodes, 1024))
    try:
        actor = sb3.SB3Actor(venv, args.model)
    except (ValueError, FileNotFoundError) as err:
        raise CommandError(str(err)) from None
    ret = float(evaluate(venv, actor, args.episodes, EVAL_SEED).mean())
    refs = reference_returns(entry.id, episodes=args.episodes)
    print(f"{args.model}: mean return {ret:.3f} over {args.episodes} held-out episodes; "
          f"random {refs['random']:.3f}, scripted expert {refs['expert']:.3f}; "
          f"normalized {float(normalized_score(ret, refs)):.1f}")
    return 0
