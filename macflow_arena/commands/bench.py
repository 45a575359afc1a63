"""``macflow-arena bench``: env throughput, inference latency and training speed on this machine."""

from __future__ import annotations

import argparse
import sys

from . import CommandError, require_torch

EXAMPLES = """examples:
  macflow-arena bench --quick                 # about half a minute: a smoke check
  macflow-arena bench --out bench.md          # a few minutes: numbers worth quoting

Everything runs on the CPU with one torch thread. For the detailed tables
(presets, GPU, more variants) see the scripts in benchmarks/.
"""


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="measure env steps/s, inference ms/decision and training updates/s (one table)",
        description="Measure env throughput (ours vs mpe2 when installed), per-decision inference time of every "
        "algorithm at batch 1 and 1024, and training updates/s, with ratios; print one Markdown table.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="short measurements (about 30 s in all)")
    p.add_argument("--out", metavar="FILE.md", help="also write the table to this Markdown file")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    require_torch("bench")
    out = Path(args.out).expanduser() if args.out else None
    if out is not None and out.suffix.lower() != ".md":
        raise CommandError(f"--out {args.out}: give a file name ending in .md")
    if out is not None and not out.parent.is_dir():
        raise CommandError(f"--out {args.out}: folder {out.parent} does not exist; create it first")
    from ..bench.summary import run_bench

    text = run_bench(args.quick, log=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    print(text, end="")
    if out is not None:
        from ..data.fsio import atomic_write

        atomic_write(out.parent.resolve(), out.name, text.encode(), replace=True)
        print(f"wrote {out}", file=sys.stderr)
    return 0
