"""``macflow-arena dataset list | info | verify | repair | replay``."""

from __future__ import annotations

import argparse
import sys

from . import CommandError

EXAMPLES = """examples:
  macflow-arena dataset list
  macflow-arena dataset info particle-spread-v0-expert --plot returns.png
  macflow-arena dataset verify particle-spread-v0-expert
  macflow-arena dataset repair ./my-dataset --dry-run
  macflow-arena dataset replay particle-spread-v0-expert --episode 3              # in a window
  macflow-arena dataset replay particle-spread-v0-expert --episode 3 --video ep3.mp4

NAME is a dataset under $MACFLOW_ARENA_HOME/datasets (default ~/.macflow_arena/datasets),
or a path to a dataset folder.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "dataset",
        help="list, inspect, verify, repair or replay datasets",
        description="Work with recorded datasets.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION")
    q = sub.add_parser("list", help="the datasets in the datasets folder")
    q.add_argument("--root", metavar="DIR", help="folder to list (default: the datasets folder)")
    q = sub.add_parser("info", help="print the dataset card")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--json", action="store_true", help="the card as JSON")
    q.add_argument("--plot", metavar="PNG", help="also save a histogram of episode returns as PNG")
    q = sub.add_parser("verify", help="check every shard (size, sha256, arrays, values); exit 1 on problems")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--quick", action="store_true", help="skip the per-value checks (NaN, spaces)")
    q = sub.add_parser("repair", help="drop uncommitted files and damaged or duplicated entries so verify passes")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--dry-run", action="store_true", help="only say what would be done")
    q = sub.add_parser("replay", help="re-simulate a stored episode in a window or into a video")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--episode", type=int, default=None, help="episode id (default: the first)")
    q.add_argument("--video", metavar="PATH", help="write .mp4 or .gif instead of opening a window")
    q.add_argument("--fps", type=int, default=None, help="frames per second (default: the env's)")
    p.set_defaults(func=run, parser=p)


def run(args) -> int:
    action = getattr(args, "dataset_command", None)
    if action is None:
        args.parser.print_help(sys.stderr)
        return 2
    return {"list": _list, "info": _info, "verify": _verify, "repair": _repair, "replay": _replay}[action](args)


def _open(name: str):
    from ..data.loader import Dataset
    from ..data.paths import resolve_dataset

    path = resolve_dataset(name)
    if not (path / "manifest.jsonl").exists():
        from ..data.paths import datasets_dir

        raise CommandError(f"no dataset at {path} (see `macflow-arena dataset list`; datasets folder: {datasets_dir()})")
    return Dataset(path)


def _list(args) -> int:
    from pathlib import Path

    from ..data.errors import DatasetError
    from ..data.loader import Dataset
    from ..data.paths import datasets_dir

    root = Path(args.root).expanduser() if args.root else datasets_dir()
    rows = []
    for p in sorted(root.iterdir()) if root.is_dir() else []:
        if not (p / "manifest.jsonl").exists():
            continue
        try:
            ds = Dataset(p)
            h = ds.header
            rows.append((p.name, h["env_id"], h.get("quality") or "-", str(ds.num_episodes), str(ds.num_steps),
                         f"{sum(s.bytes for s in ds.shards) / 1e6:.1f} MB"))
        except (DatasetError, ValueError, OSError, KeyError, TypeError, RecursionError) as e:
            # one bad dataset never breaks listing the others
            rows.append((p.name, "?", "?", "?", "?", f"unreadable: {type(e).__name__}"))
    if not rows:
        print(f"no datasets in {root} (record one with `macflow-arena record ENV`)", file=sys.stderr)
        return 0
    head = ("name", "env", "quality", "episodes", "steps", "size")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def _info(args) -> int:
    import json

    from ..data.card import format_card

    ds = _open(args.name)
    card = ds.card()
    print(json.dumps(card, indent=2) if args.json else format_card(card))
    if args.plot:
        from ..data.plot import return_histogram_png

        try:
            out = return_histogram_png(ds.returns, args.plot, f"{card['name']}: episode returns",
                                       refs=card.get("reference_returns"))
        except ValueError as e:
            raise CommandError(str(e)) from None
        print(f"wrote {out}", file=sys.stderr)
    return 0


def _verify(args) -> int:
    from ..data.integrity import verify

    _open(args.name)
    report = verify(args.name, deep=not args.quick)
    print(report)
    return 0 if report.ok else 1


def _repair(args) -> int:
    from ..data.integrity import repair, verify

    _open_manifest_only(args.name)
    actions = repair(args.name, dry_run=args.dry_run)
    for a in actions:
        print(("would " if args.dry_run else "") + a)
    if not actions:
        print("nothing to repair")
    if not args.dry_run:
        print(verify(args.name))
    return 0


def _open_manifest_only(name: str) -> None:
    from ..data.paths import resolve_dataset

    path = resolve_dataset(name)
    if not (path / "manifest.jsonl").exists():
        raise CommandError(f"no dataset at {path} (no manifest.jsonl)")


def _replay(args) -> int:
    from ..data.replay import Divergence, ReplayError, replay_frames

    ds = _open(args.name)
    ids = ds.episode_ids
    if not ids:
        raise CommandError(f"{ds.path} has no committed episodes")
    eid = ids[0] if args.episode is None else args.episode
    shard = next((s for s in ds.shards if eid in s.episodes), None)
    if shard is None:
        raise CommandError(f"episode {eid} is not in {ds.name} (ids {ids[0]}..{ids[-1]})")
    from ..data.loader import EpisodeArrays
    from ..data.shards import load_shard

    arrays = EpisodeArrays(load_shard(ds.path, shard, ds.layout, ds.agents), ds.header)
    ep = arrays.episode(arrays.index_of(eid))
    div = Divergence()
    fps = args.fps or 10
    try:
        frames = replay_frames(ds.header, ep, div)
        if args.video:
            from ..video import write_frames

            n, w, h = write_frames(frames, args.video, fps)
            print(f"{args.video}: episode {eid}, {n} frames, {w}x{h}, {fps} fps")
        else:
            _show(frames, f"{ds.name} episode {eid}", fps)
    except ReplayError as e:
        raise CommandError(str(e)) from None
    if div.step is not None:
        print(f"warning: the replay diverged from the stored observations at step {div.step} ({div.agent}); "
              "the scenario or the env code changed since recording", file=sys.stderr)
        return 1
    return 0


def _show(frames, title: str, fps: int) -> None:
    from ..render.pg import pygame
    from ..render.window import Window

    window = None
    try:
        for frame in frames:
            if window is None:
                window = Window(title, frame.shape[1], frame.shape[0], fps=fps)
            window.show(frame)
            if any(e.type == pygame().QUIT for e in pygame().event.get()):
                break
    finally:
        if window is not None:
            window.close()
