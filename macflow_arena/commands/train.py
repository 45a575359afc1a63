"""``macflow-arena train``: train a team offline from a recorded dataset.

The trainer's options are generated from ``train.config.TrainConfig``'s fields;
the algorithm's config fields are set with ``--set NAME=VALUE`` (checked against
the algorithm's config dataclass; ``--list-options`` prints them with their help).
Under ``torchrun --nproc_per_node=K -m macflow_arena train ...`` it runs data-parallel.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

from . import CommandError, require_torch

EXAMPLES = """examples:
  macflow-arena record particle/spread --suite --episodes 1000
  macflow-arena train particle/spread --dataset particle-spread-v0-expert --algo macflow --preset small --steps 20000
  macflow-arena train particle/spread --dataset ./my-data --algo bc --steps 5000 --set hidden=256,256
  macflow-arena train skirmish/3m --dataset skirmish-3m-v0-expert --set alpha=3.0 --eval-every 2000
  macflow-arena train particle/spread --dataset particle-spread-v0-expert --algo bc --seeds 0-4
  macflow-arena train --resume particle-spread-macflow-particle-spread-v0-expert-s0 --steps 40000
  macflow-arena train particle/spread --dataset particle-spread-v0-medium --recipe noisy --compile on --steps 5000
  macflow-arena train --list-recipes
  macflow-arena train --algo macflow --list-options
  torchrun --nproc_per_node=2 -m macflow_arena train particle/spread --dataset ... --device cpu

Runs go to $MACFLOW_ARENA_HOME/runs/NAME (or --out); score one with `macflow-arena eval RUN`.
"""

POSITIONAL = ("env",)


def add_parser(subparsers) -> None:
    from ..train.config import TrainConfig

    p = subparsers.add_parser(
        "train", help="train a team offline from a dataset (MAC-Flow and baselines)",
        description="Train an offline MARL algorithm on a recorded dataset; checkpoints, evaluation, exact resume.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("env", metavar="ENV", nargs="?", default="", help="env id the dataset was recorded on, e.g. particle/spread")
    for f in dataclasses.fields(TrainConfig):
        if f.name in POSITIONAL or f.name == "overrides":
            continue
        flag = "--" + f.name.replace("_", "-")
        helptext = f.metadata.get("help", "")
        default = f.default
        if isinstance(default, bool):
            p.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                           help=f"{helptext} (default {default})")
        else:
            typ = int if isinstance(default, int) else float if isinstance(default, float) else str
            p.add_argument(flag, dest=f.name, type=typ, default=default,
                           help=f"{helptext}" + (f" (default {default})" if default not in (None, "") else ""))
    p.add_argument("--set", dest="set", action="append", default=[], metavar="NAME=VALUE",
                   help="algorithm config override, repeatable (e.g. --set alpha=3.0 --set hidden=256,256)")
    p.add_argument("--recipe", metavar="NAME",
                   help="a measured MAC-Flow option set by the kind of data: noisy, data, regress, filter "
                        "(--list-recipes says which suits what; a --set next to it wins)")
    p.add_argument("--list-recipes", action="store_true", help="list MAC-Flow's recipes with their scores and exit")
    p.add_argument("--seeds", metavar="SEEDS",
                   help="train several seeds in this process (e.g. 0-4 or 0,2,7), one run folder each "
                        "(-s<seed> appended to --name/--out, or {seed} in them); replaces --seed")
    p.add_argument("--stack", choices=("auto", "on", "off"), default="auto",
                   help="with --seeds: 'on' trains the seeds as one stacked update (weights on a seed axis), "
                        "'off' one after another; 'auto' (default): on with CUDA, off on CPU, where the stacked "
                        "update measured slower (benchmarks/results/train_speed_cpu_seeds.md)")
    p.add_argument("--resume", metavar="RUN", help="continue a run (name or folder) from its latest checkpoint")
    p.add_argument("--list-options", action="store_true", help="list the --set fields of --algo and exit")
    p.set_defaults(func=run)


def _list_options(algo: str) -> int:
    from ..algos.registry import get
    from ..train.config import config_options

    cls = get(algo).Config
    print(f"--set options of {algo} ({cls.__name__}):")
    for name, (typ, default, helptext) in config_options(cls).items():
        print(f"  {name}={default!r:<18} {typ:<18} {helptext}")
    return 0


def _run_dir(cfg, resume):
    from pathlib import Path

    from ..train.config import resolve_run, runs_dir
    from ..train.trainer import _default_name

    if resume:
        return resolve_run(resume)
    return Path(cfg.out).expanduser() if cfg.out else runs_dir() / (cfg.name or _default_name(cfg))


def run(args) -> int:
    require_torch("training")
    from ..algos.registry import ALGOS, get
    from ..train.config import TrainConfig, parse_overrides
    from ..train.data import DatasetMismatchError
    from ..train.trainer import TrainError, train

    if args.algo not in ALGOS:
        try:
            get(args.algo)
        except KeyError as e:
            raise CommandError(str(e.args[0])) from None
    if args.list_options:
        return _list_options(args.algo)
    from ..algos import recipes

    if args.list_recipes:
        print(recipes.describe())
        return 0
    try:
        sets = (recipes.recipe_sets(args.recipe, args.algo) if args.recipe else []) + args.set
        overrides = parse_overrides(sets, get(args.algo).Config)
    except ValueError as e:
        raise CommandError(str(e)) from None
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if f.name != "overrides"}
    cfg = TrainConfig(**values, overrides=overrides)
    from ..threads import resolve_threads

    cfg.threads = resolve_threads(cfg.threads, "train")  # 0: the measured default (macflow_arena/threads.py)
    if args.resume is None and (not cfg.env or not cfg.dataset):
        raise CommandError("give ENV and --dataset (e.g. `macflow-arena train particle/spread --dataset "
                           "particle-spread-v0-expert`), or --resume RUN")
    from ..train import distributed

    if args.resume is not None and (args.recipe or args.set):
        raise CommandError("--resume continues a run with the options it was started with (its config.json): "
                           "drop --recipe/--set, or start a new run with them")
    if args.seeds is not None and args.resume is not None:
        raise CommandError("--seeds with --resume: resume each seed's run folder on its own (train --resume RUN)")
    try:
        if args.seeds is not None:
            from ..train.seeds import parse_seeds, train_seeds

            results = train_seeds(cfg, parse_seeds(args.seeds), stack=args.stack, log=lambda m: print(m))
            for r in results:
                if r.last_eval is not None:
                    ev = {k: v for k, v in r.last_eval.items() if k != "reference_returns"}
                    print(json.dumps({"run": str(r.run_dir), **ev}))
            return 0
        res = train(cfg, resume=args.resume, log=lambda m: print(m))
    except (TrainError, DatasetMismatchError, ValueError, KeyError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        raise CommandError(str(msg)) from None
    except OSError as e:
        from ..integrity import disk_full

        if not disk_full.is_disk_full(e):
            raise
        raise disk_full.training(_run_dir(cfg, args.resume)) from None
    finally:
        if distributed.launched():
            distributed.cleanup(distributed.DistInfo(world_size=2))
    if res.last_eval is not None:
        print(json.dumps({k: v for k, v in res.last_eval.items() if k != "reference_returns"}))
    return 0
