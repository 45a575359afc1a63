"""``macflow-arena report``: score trained runs against their inference cost, per algorithm."""

from __future__ import annotations

import argparse
import sys

from . import CommandError, require_torch

EXAMPLES = """examples:
  macflow-arena report cover-macflow-s0 cover-macflow-s1 cover-bc-s0 cover-bc-s1 --out ./report
  macflow-arena report ./runs/a ./runs/b --episodes 0        # reuse each run's last eval.jsonl line

Runs of the same algorithm, env and dataset (different seeds) are aggregated:
mean normalized score with a 95% Student t interval over the seeds, as on team
cards (one run: bootstrap CI over its evaluation episodes). Writes DIR/report.md and DIR/report.png (normalized
score against time per decision, log scale, one point per algorithm).
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="score runs vs inference time per algorithm: report.md + report.png",
        description="Evaluate trained runs, time one decision of each at batch 1 on the CPU, aggregate seeds per "
        "algorithm, and write a Markdown table and a score-vs-time figure.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs", metavar="RUN", nargs="+", help="run names (under $MACFLOW_ARENA_HOME/runs) or folders")
    p.add_argument("--out", metavar="DIR", default=".", help="folder for report.md and report.png (default .)")
    p.add_argument("--episodes", type=int, default=100,
                   help="evaluation episodes per run (default 100; 0: reuse the last eval.jsonl line)")
    p.set_defaults(func=run)


def run(args) -> int:
    require_torch("report")
    from ..report.build import make_report
    from ..report.runs import ReportError

    try:
        md, png, text = make_report(args.runs, args.out, episodes=args.episodes,
                                    log=lambda m: print(f"report: {m}", file=sys.stderr, flush=True))
    except ReportError as e:
        raise CommandError(str(e)) from None
    print(text, end="")
    print(f"wrote {md} and {png}", file=sys.stderr)
    return 0
