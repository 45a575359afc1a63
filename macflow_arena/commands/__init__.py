"""CLI subcommands, one module each.

A command module exposes ``add_parser(subparsers)`` (registers its
sub-parser and sets ``func=run`` on it) and ``run(args) -> int``. Add a
command by writing ``commands/<name>.py`` and listing it in ``COMMANDS``.
Modules import heavy things (pygame, torch) inside ``run`` only.
"""

from __future__ import annotations

COMMANDS = ("list", "play", "video", "record", "dataset", "behave", "train", "eval", "team", "report", "bench", "demo")


class CommandError(Exception):
    """A user error: ``main`` prints it as one line on stderr and exits with 2."""


def require_torch(what: str) -> None:
    """Raise a CommandError with the install hint when torch is missing (``what``: "training", "report" ...)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        from ..install import needs_torch

        raise CommandError(needs_torch(what)) from None
