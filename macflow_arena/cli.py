"""``macflow-arena`` (also ``python -m macflow_arena``): one sub-command per module in ``commands/``."""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .argparsing import StrictParser
from .commands import COMMANDS, CommandError

EPILOG = """examples:
  macflow-arena list
  macflow-arena play particle/spread
  macflow-arena play particle/tag --seat prey_0=keyboard
  macflow-arena video particle/tag --out tag.mp4 --episodes 2

`macflow-arena COMMAND --help` shows each command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = StrictParser(
        prog="macflow-arena",
        description="Cooperative multi-agent games: play, record, train, render.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.commands.{name}").add_parser(sub)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: printed as one line, exit code 2."""
    from .play.seats import SeatError
    from .registry import UnknownEnvError
    from .spec import SpecError
    from .video import VideoError
    from .data.errors import DatasetError
    from .threads import ThreadsError

    return (CommandError, UnknownEnvError, SpecError, SeatError, VideoError, DatasetError, ThreadsError)


def closed_stdout() -> None:
    """Point stdout at the null device so the interpreter's exit flush does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error (already printed)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    errors = user_errors()
    try:
        return int(args.func(args) or 0)
    except errors as e:
        print(f"macflow-arena {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"macflow-arena {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`... | head`): stop quietly, as head expects
        closed_stdout()
        return 141
    except OSError as e:  # a full disk anywhere else: one line, not a traceback
        from .integrity.disk_full import generic, is_disk_full

        if not is_disk_full(e):
            raise
        print(generic(args.command, e), file=sys.stderr)
        return 2
