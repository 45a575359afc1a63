"""``macflow-arena demo``: record, train macflow and bc, evaluate, export, compare on video, report."""

from __future__ import annotations

import argparse

from . import CommandError, require_torch

EXAMPLES = """examples:
  macflow-arena demo                          # the shipped cover team's budget (about half an hour on one CPU core)
  macflow-arena demo --out /tmp/demo --steps 3000
  macflow-arena demo --quick                  # tiny budget: checks the loop, scores mean nothing

Every step is printed as the macflow-arena command it runs; rerun any of them
by hand. Everything (dataset, runs, teams, compare.mp4, report.md/png) goes under --out.
"""


def add_parser(subparsers) -> None:
    from ..demo import DEFAULT, QUICK

    p = subparsers.add_parser(
        "demo", help="the whole loop on particle/cover: record, train, eval, video, report (--steps 1500 for a shorter run)",
        description="Record a multimodal expert dataset on particle/cover, train a macflow and a bc team on it "
        "(CPU, small preset), evaluate, export them as teams, render them side by side and write the report.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", metavar="DIR", default="macflow-demo", help="folder for everything (default ./macflow-demo)")
    p.add_argument("--quick", action="store_true", help="tiny budget (well under a minute); for tests")
    p.add_argument("--steps", type=int, default=None, help=f"training updates per team (default {DEFAULT.steps}; --quick: {QUICK.steps})")
    p.set_defaults(func=run)


def run(args) -> int:
    import dataclasses
    from pathlib import Path

    from ..demo import DEFAULT, QUICK, DemoError, run_demo

    require_torch("demo")
    budget = QUICK if args.quick else DEFAULT
    if args.steps is not None:
        if args.steps < 1:
            raise CommandError("--steps must be >= 1")
        budget = dataclasses.replace(budget, steps=args.steps)
    out = Path(args.out).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CommandError(f"--out {out} exists and is not an empty folder; remove it or pass another --out")
    try:
        skipped = run_demo(out, budget)
    except DemoError as e:
        raise CommandError(str(e)) from None
    print(f"\ndone: {', '.join(sorted(p.name + ('/' if p.is_dir() else '') for p in out.iterdir()))} in {out}")
    if skipped:
        print("skipped (not available in this installation): " + "; ".join(skipped))
    return 0
