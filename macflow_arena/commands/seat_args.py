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


def add_threads_option(p, kind: str) -> None:
    """``--threads N``: torch CPU threads for ``kind`` of work (0: the measured default, see ``macflow_arena.threads``)."""
    from ..threads import DEFAULTS, ENV_VAR

    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help=f"torch CPU threads (default 0: ${ENV_VAR} if set, else {DEFAULTS[kind]}, the fastest measured "
                        "for these small networks; see benchmarks/results/threads.md)")


def uses_team(args) -> bool:
    """Whether a play/video command runs a trained team (and so torch)."""
    seats = getattr(args, "seat", None) or []
    return bool(getattr(args, "team", None) or getattr(args, "compare", None) or any("team:" in s for s in seats))
