"""The ``--seat`` option shared by the commands that run policies."""

from __future__ import annotations


def add_seat_option(p, default_help: str) -> None:
    p.add_argument(
        "--seat",
        action="append",
        metavar="AGENT=KIND",
        default=None,
        help=f"who plays a seat (repeatable); KIND is one of the seat kinds below. {default_help}",
    )


def kinds_epilog() -> str:
    from ..play.kinds import describe_kinds

    return "seat kinds (AGENT=KIND; '*=KIND' sets the kind of every seat not named):\n" + describe_kinds()
