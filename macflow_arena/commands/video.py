"""``macflow-arena video``: render episodes to an .mp4 or .gif file, without a window."""

from __future__ import annotations

import argparse

from . import CommandError
from .seat_args import add_seat_option, kinds_epilog

EXAMPLES = """examples:
  macflow-arena video particle/spread --out spread.mp4
  macflow-arena video particle/tag --out tag.gif --episodes 2 --size 300
  macflow-arena video particle/tag --out prey.mp4 --seat prey_0=scripted --seat '*=random'

Each episode gives its reset frame plus one frame per step (L + 1 frames).
MP4 is H.264/yuv420p (odd sides are padded by one pixel); the file appears
only when complete, and an existing file is replaced only on success.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "video",
        help="render episodes to .mp4 or .gif",
        description="Render ENV headless with the HUD burnt in; seats default to scripted.",
        epilog=EXAMPLES + "\n" + kinds_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("env", metavar="ENV", help="env id, e.g. particle/tag (see `macflow-arena list`)")
    p.add_argument("--out", required=True, metavar="PATH", help="output file ending in .mp4 or .gif")
    p.add_argument("--episodes", type=int, default=1, help="number of episodes (default 1)")
    add_seat_option(p, "Default: every seat scripted.")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode (episode k: seed + k); default 0")
    p.add_argument("--fps", type=int, default=None, help="video frame rate; default: the env's render_fps")
    p.add_argument("--size", type=int, default=600, help="frame side in pixels (default 600)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..video import export_video

    if args.episodes < 1:
        raise CommandError(f"--episodes must be >= 1, got {args.episodes}")
    result = export_video(
        args.env,
        args.out,
        episodes=args.episodes,
        seats=args.seat,
        seed=args.seed,
        fps=args.fps,
        size=args.size,
        progress=not args.quiet,
    )
    print(f"{result.path}: {result.frames} frames, {result.width}x{result.height}, {result.fps} fps")
    return 0
