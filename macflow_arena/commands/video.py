"""``macflow-arena video``: render episodes to an .mp4 or .gif file, without a window."""

from __future__ import annotations

import argparse

from . import CommandError
from .seat_args import add_seat_option, add_threads_option, kinds_epilog, uses_team

EXAMPLES = """examples:
  macflow-arena video particle/spread --out spread.mp4
  macflow-arena video particle/tag --out tag.gif --episodes 2 --size 300
  macflow-arena video particle/tag --out prey.mp4 --seat prey_0=scripted --seat '*=random'
  macflow-arena video particle/cover --team cover-macflow --episodes 4 --out cover.mp4
  macflow-arena video particle/spread --compare spread-macflow spread-bc ./runs/my-run --out cmp.mp4

Each episode gives its reset frame plus one frame per step (L + 1 frames).
--compare renders each team (team names, team folders or run folders) in a
grid, all on the same seeds and in lock step: a tile whose episode ended
holds its last frame until every tile has finished (so L is the longest).
MP4 is H.264/yuv420p (odd sides are padded by one pixel); the file appears
only when complete, and an existing file is replaced only on success.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "video",
        help="render episodes to .mp4 or .gif (teams side by side with --compare)",
        description="Render ENV headless with the HUD burnt in; seats default to scripted.",
        epilog=EXAMPLES + "\n" + kinds_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("env", metavar="ENV", help="env id, e.g. particle/tag (see `macflow-arena list`)")
    p.add_argument("--out", required=True, metavar="PATH", help="output file ending in .mp4 or .gif")
    p.add_argument("--episodes", type=int, default=1, help="number of episodes (default 1)")
    add_seat_option(p, "Default: every seat scripted.")
    p.add_argument("--team", metavar="NAME", default=None,
                   help="a trained team (name, team folder or run folder) plays every seat not named by --seat")
    p.add_argument("--compare", nargs="+", metavar="TEAM", default=None,
                   help="render these teams side by side on identical seeds (not with --seat or --team)")
    p.add_argument("--cols", type=int, default=None, help="--compare: tiles per row (default: a square-ish grid)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode (episode k: seed + k); default 0")
    p.add_argument("--fps", type=int, default=None, help="video frame rate; default: the env's render_fps")
    p.add_argument("--size", type=int, default=None,
                   help="frame side in pixels (default 600; with --compare, each tile's side, default 360)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    add_threads_option(p, "act")
    p.set_defaults(func=run)


def _team_errors() -> tuple[type[BaseException], ...]:
    try:
        from ..teams.format import TeamError
    except ImportError:  # pragma: no cover
        return ()
    return (TeamError,)


def run(args) -> int:
    from ..video import export_video

    if args.episodes < 1:
        raise CommandError(f"--episodes must be >= 1, got {args.episodes}")
    if uses_team(args):
        from ..threads import apply_threads

        apply_threads(args.threads, "act")
    if args.compare is not None:
        if args.seat or args.team:
            raise CommandError("--compare gives every seat to each compared team; drop --seat/--team")
        try:
            from ..teams.compare import compare_video
        except ImportError as e:
            from ..install import needs_torch

            raise CommandError(needs_torch("--compare", e)) from None
        try:
            res = compare_video(args.env, args.compare, args.out, episodes=args.episodes, seed=args.seed, fps=args.fps,
                                size=args.size or 360, cols=args.cols, progress=not args.quiet)
        except _team_errors() as e:
            raise CommandError(str(e)) from None
        print(f"{res.path}: {res.frames} frames, {res.width}x{res.height}, {res.fps} fps")
        for label, rets in res.team_returns.items():
            print(f"  {label}: returns {', '.join(f'{r:.2f}' for r in rets)}")
        return 0
    if args.cols is not None:
        raise CommandError("--cols is for --compare")
    result = export_video(
        args.env,
        args.out,
        episodes=args.episodes,
        seats=args.seat,
        seed=args.seed,
        fps=args.fps,
        size=args.size or 600,
        progress=not args.quiet,
        team=args.team,
    )
    print(f"{result.path}: {result.frames} frames, {result.width}x{result.height}, {result.fps} fps")
    return 0
