"""The Markdown report: one row per algorithm group, then the runs behind them."""

from __future__ import annotations

import time

from .groups import Group


def _opt(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def _exec(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "-"


def markdown(groups: list[Group], episodes: int, figure: str | None = "report.png",
             execution: list[str] | None = None) -> str:
    """``execution``: the ``--set NAME=VALUE`` options every run was evaluated and timed with (a line
    under the title and an ``execution`` column in the runs table); None or empty: none."""
    wins = any(g.win_rate is not None for g in groups)
    cover = any(g.coverage is not None for g in groups)
    head = ["algo", "runs (seeds)", "normalized score [95% CI]", "CI over"]
    head += ["win rate"] * wins + ["coverage"] * cover + ["ms/decision (batch 1, CPU)", "env", "dataset"]
    lines = [
        "# Run report",
        "",
        f"{time.strftime('%Y-%m-%d')}. Normalized score: 100 * (R - R_random) / (R_expert - R_random), from the "
        "dataset's reference returns; "
        + (f"each run's latest checkpoint evaluated on {episodes} episodes (held-out seeds). " if episodes > 0
           else "each run's last line of eval.jsonl. ")
        + "Several runs of one algorithm (seeds): mean, 95% Student t interval over the seeds; one run: 95% "
        "bootstrap CI over its episodes. Time per decision: median wall time of one `act` for the whole team at "
        "batch 1 on a reset observation, CPU, one torch thread, 200 calls after warm-up.",
        "",
    ]
    if execution:
        lines += [f"Execution options (`--set`): {', '.join(f'`{e}`' for e in execution)}, applied to every run "
                  "(ALGO:NAME=VALUE: to that algorithm's runs) before it was evaluated and timed (they change how "
                  "the trained policy acts, not its weights).", ""]
    lines += [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for g in groups:
        row = [g.label, f"{len(g.runs)} ({', '.join(map(str, g.seeds))})",
               f"{g.normalized:.1f} [{g.ci[0]:.1f}, {g.ci[1]:.1f}]", g.ci_over]
        row += [_opt(g.win_rate, ".2f")] * wins + [_opt(g.coverage, ".2f")] * cover
        row += [f"{g.ms_per_decision:.3g}", g.env, g.dataset]
        lines.append("| " + " | ".join(row) + " |")
    if figure:
        lines += ["", f"![normalized score against inference time per decision]({figure})"]
    cols = ["run", "algo", "seed", "step", "normalized score", "episodes", "from", "ms/decision"]
    cols += ["execution"] * bool(execution)
    lines += ["", "## Runs", "", "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for g in groups:
        for r in g.runs:
            row = [r.name, r.algo, str(r.seed), str(r.eval.get("step", "-")), f"{r.normalized:.1f}",
                   str(r.eval["episodes"]), r.source, f"{r.ms_per_decision:.3g}"]
            row += [_exec(r.execution)] * bool(execution)
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
