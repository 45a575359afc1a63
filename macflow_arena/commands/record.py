"""``macflow-arena record``: record a dataset of a behaviour policy (batched, crash-safe)."""

from __future__ import annotations

import argparse
import sys

from . import CommandError

EXAMPLES = """examples:
  macflow-arena record particle/spread --behavior scripted --quality expert --episodes 1000
  macflow-arena record particle/spread --suite                      # expert, medium, medium-replay, random
  macflow-arena record particle/spread --behavior scripted --epsilon 0.5 --quality mixed --name my-spread
  macflow-arena record particle/spread --behavior sb3 --model ppo_spread.zip --quality expert
  macflow-arena record skirmish/3m --behavior random --episodes 200 --out ./3m-random
  macflow-arena record particle/cover --noise 0.3 --label intended --quality expert --name cover-dart

Datasets go to $MACFLOW_ARENA_HOME/datasets/NAME (default ~/.macflow_arena/datasets);
NAME defaults to <family>-<env>-v<N>-<quality>. Reference returns (random and the
scripted expert) are measured on held-out seeds and stored in the manifest.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "record",
        help="record an offline dataset (scripted, random or SB3 behaviour; --suite for the standard levels)",
        description="Record episodes of a behaviour policy on ENV's batched VectorEnv into a dataset folder "
        "(immutable shards + append-only manifest). Killing it loses nothing committed.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("env", metavar="ENV", help="env id, e.g. particle/spread (see `macflow-arena list`)")
    p.add_argument("--behavior", "--behaviour", dest="behavior", default="scripted",
                   choices=("scripted", "random", "sb3"), help="behaviour policy (default scripted)")
    p.add_argument("--model", metavar="PATH", help="SB3 model .zip for --behavior sb3")
    p.add_argument("--quality", default=None,
                   help="quality label: expert, medium, medium-replay, random, human, mixed "
                        "(default: expert for a noiseless script, random for random, else mixed)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes per dataset (default: the scenario's dataset_episodes, 5000 for the particle "
                        "tasks, else 1000)")
    p.add_argument("--noise", type=float, default=0.0, help="Gaussian action noise std (continuous actions)")
    p.add_argument("--epsilon", type=float, default=0.0, help="probability of a uniformly random action")
    p.add_argument("--label", choices=("executed", "intended"), default="executed",
                   help="with --noise/--epsilon: which action the dataset stores. executed (default): what the env "
                        "ran; intended: the behaviour's own action before the noise (DART): the states leave the "
                        "behaviour's path and each label is its correction from there, so imitation learns to "
                        "recover. The stored action is then not the one that produced the next observation.")
    p.add_argument("--suite", action="store_true", help="record expert, medium, medium-replay and random in one go")
    p.add_argument("--name", help="dataset name under the datasets folder")
    p.add_argument("--out", metavar="PATH", help="dataset folder (instead of --name)")
    p.add_argument("--root", metavar="DIR", help="folder for --suite datasets (default: the datasets folder)")
    p.add_argument("--num-envs", type=int, default=1024, help="worlds stepped together (default 1024)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the first episode (default 0; with --append: after the last committed episode)")
    p.add_argument("--allow-repeat-seeds", action="store_true",
                   help="with --append and --seed: allow seeds the dataset already holds (repeats episodes)")
    p.add_argument("--episodes-per-shard", type=int, default=None, help="episodes per shard (default max(num-envs, 100))")
    p.add_argument("--no-reference", action="store_true", help="skip measuring reference returns")
    p.add_argument("--reference-episodes", type=int, default=1024,
                   help="held-out episodes for reference returns and medium calibration (default 1024)")
    p.add_argument("--no-state", action="store_true", help="do not store the global state")
    p.add_argument("--reseed", action="store_true",
                   help="give every episode its own seed (one extra reset per round; default: world seeds + reset_index)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing dataset of that name")
    mode.add_argument("--append", action="store_true", help="append to an existing dataset of that name")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def progress_bar(total: int, desc: str, quiet: bool):
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit="ep", file=sys.stderr, dynamic_ncols=True)


def run(args) -> int:
    from pathlib import Path

    from ..data.paths import datasets_dir, default_name, resolve_dataset
    from ..registry import resolve

    entry = resolve(args.env)
    if args.episodes is None:
        args.episodes = entry.dataset_episodes
    for name in ("episodes", "num_envs", "reference_episodes"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be >= 1")
    if not 0.0 <= args.epsilon <= 1.0 or args.noise < 0:
        raise CommandError("--epsilon must be in [0, 1] and --noise >= 0")
    mode = "overwrite" if args.overwrite else ("append" if args.append else "create")
    if args.suite:
        from ..data.suite import record_suite

        if args.name or args.out or args.behavior != "scripted" or args.quality:
            raise CommandError("--suite chooses names, behaviours and qualities itself; use --root for the folder")
        root = Path(args.root).expanduser() if args.root else datasets_dir()
        _check_free(root, entry.id, mode)
        _suite_disk_full(root, entry.id, lambda: record_suite(entry.id, root, episodes=args.episodes, seed=args.seed or 0, num_envs=args.num_envs, mode=mode,
                     eval_episodes=args.reference_episodes,
                     progress_factory=lambda q, n: progress_bar(n, q, args.quiet) or _NoBar(),
                     log=lambda s: print(s, file=sys.stderr)))
        return 0

    from ..data.card import format_card
    from ..data.loader import Dataset
    from ..data.suite import record_dataset, reference_returns

    behaviour = {"name": args.behavior}
    if args.behavior == "sb3":
        if not args.model:
            raise CommandError("--behavior sb3 needs --model PATH (train one with `macflow-arena behave train`)")
        behaviour["model"] = str(Path(args.model).expanduser().resolve())
    elif args.model:
        raise CommandError("--model is only for --behavior sb3")
    if args.noise:
        behaviour["noise"] = args.noise
    if args.epsilon:
        behaviour["epsilon"] = args.epsilon
    if args.label != "executed":
        if not (args.noise or args.epsilon):
            raise CommandError("--label intended needs --noise or --epsilon (the perturbation the labels ignore)")
        behaviour["label"] = args.label
    quality = args.quality or (
        "random" if args.behavior == "random" else ("expert" if not (args.noise or args.epsilon) else "mixed"))
    if args.out and args.name:
        raise CommandError("give --name or --out, not both")
    if args.name is not None:
        from ..integrity.names import BadNameError, check_name

        try:
            check_name(args.name, "dataset name")
        except BadNameError as e:
            raise CommandError(str(e)) from None
    path = resolve_dataset(args.out) if args.out else datasets_dir() / (args.name or default_name(entry.id, quality))
    if mode == "create" and (path / "manifest.jsonl").exists():
        raise CommandError(f"{path} already holds a dataset; pass --overwrite or --append, or another --name")
    refs = None
    if not args.no_reference:
        print(f"measuring reference returns on {entry.id} ...", file=sys.stderr)
        refs = reference_returns(entry.id, episodes=args.reference_episodes)
    bar = progress_bar(args.episodes, quality, args.quiet)
    try:
        record_dataset(entry.id, path, behaviour=behaviour, quality=quality, episodes=args.episodes, seed=args.seed,
                       num_envs=args.num_envs, episodes_per_shard=args.episodes_per_shard, reference=refs, mode=mode,
                       record_state=not args.no_state, progress=bar.update if bar is not None else None,
                       reseed=args.reseed, allow_repeat_seeds=args.allow_repeat_seeds)
    except ValueError as e:
        raise CommandError(str(e)) from None
    except OSError as e:
        from ..integrity import disk_full

        if disk_full.is_disk_full(e):
            raise disk_full.recording(path, entry.id) from None
        raise
    finally:
        if bar is not None:
            bar.close()
    print(format_card(Dataset(path).card()))
    return 0


def _suite_disk_full(root, env_id: str, fn) -> None:
    """Run ``fn`` (a suite recording); a full disk names the dataset being written."""
    try:
        fn()
    except OSError as e:
        from ..data.paths import default_name
        from ..data.suite import SUITE
        from ..integrity import disk_full

        if not disk_full.is_disk_full(e):
            raise
        names = [root / default_name(env_id, q) for q in SUITE]
        current = next((p for p in reversed(names) if p.exists()), names[0])
        raise disk_full.recording(current, env_id) from None


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _check_free(root, env_id: str, mode: str) -> None:
    from ..data.paths import default_name
    from ..data.suite import SUITE

    if mode != "create":
        return
    for q in SUITE:
        path = root / default_name(env_id, q)
        if (path / "manifest.jsonl").exists():
            raise CommandError(f"{path} already holds a dataset; pass --overwrite or --append")
