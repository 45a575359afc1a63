"""``macflow-arena report``: score trained runs against their inference cost, per algorithm."""

from __future__ import annotations

import argparse
import sys

from . import CommandError, require_torch

EXAMPLES = """examples:
  macflow-arena report cover-macflow-s0 cover-macflow-s1 cover-bc-s0 cover-bc-s1 --out ./report
  macflow-arena report ./runs/a ./runs/b --episodes 0        # reuse each run's last eval.jsonl line
  macflow-arena report mf-s0 mf-s1 --set exec_noise=0 --out ./centre   # re-evaluated acting with the noise's centre

Runs of the same algorithm, env and dataset (different seeds) are aggregated:
mean normalized score with a 95% Student t interval over the seeds, as on team
cards (one run: bootstrap CI over its evaluation episodes). Writes DIR/report.md and DIR/report.png (normalized
score against time per decision, log scale, one point per algorithm).

--set NAME=VALUE changes an execution-only option of every run's algorithm (macflow: exec_noise; bc:
stochastic) before it is evaluated and timed, as `macflow-arena eval --set` does; --set ALGO:NAME=VALUE
only that algorithm's (macflow:exec_noise=1 next to bc runs). The runs are then always
evaluated afresh (--episodes 0 is refused: eval.jsonl was scored without the options), and report.md names
the options used. A name that one of the runs' algorithms does not have is an error listing that
algorithm's execution options, before anything is evaluated.
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
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="execution option applied to every run before evaluating it, repeatable (macflow: "
                        "exec_noise=0 acts with the noise's deterministic centre; bc: stochastic=true samples); "
                        "re-evaluates the runs, so it needs --episodes > 0")
    p.set_defaults(func=run)


def run(args) -> int:
    require_torch("report")
    from ..report.build import make_report
    from ..report.runs import ReportError

    try:
        md, png, text = make_report(args.runs, args.out, episodes=args.episodes, execution=args.set,
                                    log=lambda m: print(f"report: {m}", file=sys.stderr, flush=True))
    except ReportError as e:
        raise CommandError(str(e)) from None
    print(text, end="")
    print(f"wrote {md} and {png}", file=sys.stderr)
    return 0
