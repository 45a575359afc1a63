"""Score runs, aggregate them per algorithm, write ``report.md`` and ``report.png`` into a folder."""

from __future__ import annotations

import os
from pathlib import Path

from .runs import ReportError


def make_report(runs: list[str], out_dir: str | os.PathLike, *, episodes: int = 100,
                execution: list[str] | None = None, log=lambda _msg: None) -> tuple[Path, Path, str]:
    """(report.md, report.png, the Markdown text); evaluation with one torch thread.

    ``execution``: ``["NAME=VALUE", ...]`` execution-only options (``Algorithm.exec_fields``, the CLI's
    ``--set``) applied to every run before it is evaluated and timed; they need ``episodes > 0`` (a stored
    eval.jsonl line was scored without them) and are checked against every run's algorithm first."""
    import torch

    from ..data.fsio import atomic_write
    from .figure import score_vs_time_png
    from .groups import aggregate
    from .runs import parse_execution, run_folder, score_run
    from .table import markdown

    if not runs:
        raise ReportError("no runs given; pass one or more run names or folders")
    if episodes < 0:
        raise ReportError("--episodes must be >= 0 (0: reuse each run's last eval.jsonl line)")
    execution = list(execution or [])
    if execution and episodes == 0:
        raise ReportError("--set changes how the runs act, so they must be evaluated afresh: pass --episodes N "
                          "(N > 0) instead of --episodes 0 (eval.jsonl was scored without the execution options)")
    algos = [run_folder(run)[1]["algo"] for run in runs]  # every run is a readable run before any work
    per_algo = parse_execution(execution, runs) if execution else {}
    out = Path(out_dir).expanduser()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = []
        for i, (run, algo) in enumerate(zip(runs, algos), 1):
            what = f"evaluating {episodes} episodes" if episodes > 0 else "reading eval.jsonl"
            if execution:
                what += f" with {' '.join(execution)}"
            log(f"[{i}/{len(runs)}] {run}: {what}, timing decisions")
            results.append(score_run(run, episodes, per_algo.get(algo)))
    finally:
        torch.set_num_threads(threads)
    groups = aggregate(results)
    text = markdown(groups, episodes, execution=execution)
    out.mkdir(parents=True, exist_ok=True)
    png = score_vs_time_png(groups, out / "report.png")
    md = atomic_write(out, "report.md", text.encode(), replace=True)
    return md, png, text
