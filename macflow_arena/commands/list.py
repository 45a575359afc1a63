"""``macflow-arena list``: the registered env ids and what each one is."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "list",
        help="list the env ids",
        description="List every registered env id with its one-line description.",
        epilog="example:\n  macflow-arena list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import list_envs

    envs = list_envs()
    width = max((len(k) for k in envs), default=0)
    for env_id, description in envs.items():
        print(f"{env_id:<{width}}  {description}")
    return 0
