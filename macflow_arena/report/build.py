"""Score runs, aggregate them per algorithm, write ``report.md`` and ``report.png`` into a folder."""

from __future__ import annotations

import os
from pathlib import Path

from .runs import ReportError


def make_report(runs: list[str], out_dir: str | os.PathLike, *, episodes: int = 100,
                log=lambda _msg: None) -> tuple[Path, Path, str]:
    """(report.md, report.png, the Markdown text); evaluation with one torch thread."""
    import torch

    from ..data.fsio import atomic_write
    from .figure import score_vs_time_png
    from .groups import aggregate
    from .runs import score_run
    from .table import markdown

    if not runs:
        raise ReportError("no runs given; pass one or more run names or folders")
    if episodes < 0:
        raise ReportError("--episodes must be >= 0 (0: reuse each run's last eval.jsonl line)")
    out = Path(out_dir).expanduser()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = []
        for i, run in enumerate(runs, 1):
            what = f"evaluating {episodes} episodes" if episodes > 0 else "reading eval.jsonl"
            log(f"[{i}/{len(runs)}] {run}: {what}, timing decisions")
            results.append(score_run(run, episodes))
    finally:
        torch.set_num_threads(threads)
    groups = aggregate(results)
    text = markdown(groups, episodes)
    out.mkdir(parents=True, exist_ok=True)
    png = score_vs_time_png(groups, out / "report.png")
    md = atomic_write(out, "report.md", text.encode(), replace=True)
    return md, png, text
