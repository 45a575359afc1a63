"""``macflow-arena play``: play a game in a window, with or against policies."""

from __future__ import annotations

import argparse
import sys

from . import CommandError
from .seat_args import add_seat_option, add_threads_option, kinds_epilog, uses_team

EXAMPLES = """examples:
  macflow-arena play particle/spread                          # you are agent_0 (WASD/arrows)
  macflow-arena play particle/tag --seat prey_0=keyboard      # flee from the scripted predators
  macflow-arena play particle/spread --seat agent_1=gamepad --seat '*=random'
  macflow-arena play particle/spread --seat agent_0=scripted  # just watch
  macflow-arena play particle/tag --headless --frames 200     # no window (smoke test)
  macflow-arena play skirmish/3m --seat ally_0=keyboard       # WASD move, number keys attack, mouse too
  macflow-arena play skirmish/2s3z --against                  # command the enemy side with the mouse
  macflow-arena play particle/spread --team spread-macflow    # you are agent_0, the trained team the rest
  macflow-arena play particle/tag --team tag-macflow --seat prey_0=keyboard   # flee from the trained predators
  macflow-arena play skirmish/3m --team 3m-macflow --seat ally_0=mouse        # fight beside the team
  macflow-arena play skirmish/3m --against --team 3m-macflow  # command the enemy against the team
  macflow-arena play particle/spread --seat agent_0=team:spread-bc --seat '*=team:spread-macflow'

keys: WASD/arrows move, R resets the episode, P pauses, Esc or closing the window quits.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "play",
        help="play a game in a window (humans and policies per seat)",
        description="Play ENV in a pygame window, one env step per frame at the env's frame rate. "
        "Seats you do not name are scripted; with no --seat you play the first seat with the keyboard.",
        epilog=EXAMPLES + "\n" + kinds_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("env", metavar="ENV", help="env id, e.g. particle/spread (see `macflow-arena list`)")
    add_seat_option(p, "Default: the first seat is keyboard, the others scripted.")
    p.add_argument("--seed", type=int, default=None, help="seed of the first episode (episode k: seed + k); default random")
    p.add_argument("--fps", type=int, default=None, help="frames (env steps) per second; default: the env's render_fps")
    p.add_argument("--episodes", type=int, default=None, help="stop after N finished episodes")
    p.add_argument("--frames", type=int, default=None, help="stop after N frames")
    p.add_argument("--headless", action="store_true", help="no window and no pacing (needs --frames or --episodes)")
    p.add_argument("--record", metavar="NAME", default=None,
                   help="store every finished episode in dataset NAME (or a path); appends across sessions")
    p.add_argument("--team", metavar="NAME", default=None,
                   help="a trained team (name, team folder or run folder) plays every seat not named by --seat; "
                   "with no --seat you play the first seat. Its per-decision latency shows in the HUD. "
                   "See `macflow-arena team list`")
    p.add_argument(
        "--against",
        action="store_true",
        help="skirmish maps: command the whole enemy side with the mouse (click/drag to select, right-click "
        "to attack or move, Tab selects all) against the allies (scripted unless --seat names them)",
    )
    add_threads_option(p, "act")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..play import play

    for name in ("fps", "episodes", "frames"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise CommandError(f"--{name} must be >= 1, got {v}")
    if args.headless and args.frames is None and args.episodes is None:
        raise CommandError("--headless needs --frames N or --episodes N (there is no Esc key without a window)")
    if not args.headless:
        from ..play.display import no_display_message, no_display_reason

        reason = no_display_reason()
        if reason is not None:
            raise CommandError(no_display_message(args.env, reason))
    if uses_team(args):
        from ..threads import apply_threads

        apply_threads(args.threads, "act")
    seats = args.seat
    if args.against:
        from ..play.skirmish_commander import against_seats
        from ..registry import resolve

        if resolve(args.env).family != "skirmish":
            raise CommandError(f"--against is for skirmish maps; {args.env} is not one")
        seats = list(seats or []) + against_seats(args.env)
    try:
        result = play(
            args.env,
            seats,
            headless=args.headless,
            max_frames=args.frames,
            max_episodes=args.episodes,
            fps=args.fps,
            seed=args.seed,
            record=args.record,
            team=args.team,
            require_display=not args.headless,
        )
    except Exception as e:
        from ..play.display import NoDisplayError, no_display_message

        if isinstance(e, NoDisplayError):
            raise CommandError(no_display_message(args.env, str(e))) from None
        pg = sys.modules.get("pygame")
        if pg is not None and isinstance(e, pg.error):
            raise CommandError(
                f"cannot open a window ({e}); use --headless, or `macflow-arena video` to render a file"
            ) from None
        raise
    returns = ", ".join(f"{r:.2f}" for r in result.returns) or "none finished"
    print(
        f"{result.env_id} seed {result.seed}: {result.frames} frames, {result.steps} steps, "
        f"{result.episodes} episode(s); team returns: {returns}"
    )
    return 0
