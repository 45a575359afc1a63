"""Print the "Shipped teams" table of agents/README.md from the teams' own config.json
(score and CI from the export evaluation, updates, latency), so the README never
carries a number by hand.

    python benchmarks/teams_table.py            # markdown rows for every team in agents/
"""

from __future__ import annotations

import json
from pathlib import Path


def row(folder: Path) -> str:
    c = json.loads((folder / "config.json").read_text())
    ev = c.get("eval") or {}
    algo = c["algo"]
    ex = c.get("execution") or {}
    if ex:
        algo += " (" + ", ".join(f"{k}={v}" for k, v in ex.items()) + ")"
    lo, hi = ev.get("normalized_ci95", [float("nan")] * 2)
    score = f"{ev.get('normalized_score', float('nan')):.1f} [{lo:.1f}, {hi:.1f}]"
    if "win_rate" in ev:
        score += f", win rate {ev['win_rate']:.2f}"
    if "coverage_success" in ev:
        score += f", coverage {ev['coverage_success']:.2f}"
    runs = ev.get("normalized_per_run")
    if runs and len(runs) > 1:
        score += f" ({len(runs)} seeds)"
    train = c.get("train")
    train = train[0] if isinstance(train, list) else (train or {})
    steps = train.get("steps", "?")
    ds = (c.get("dataset") or {}).get("name", "?")
    ms = (c.get("latency_ms") or {}).get("median_ms", float("nan"))
    return f"| `{c['name']}` | {c['env_id']} | {algo} | {ds} | {score} | {steps} | {ms:.2f} |"


def main() -> int:
    root = Path(__file__).resolve().parents[1] / "agents"
    print("| team | env | algo | dataset | normalized score [95% CI] | updates | ms per decision (batch 1, CPU) |")
    print("|---|---|---|---|---|---|---|")
    for folder in sorted(p for p in root.iterdir() if (p / "config.json").exists()):
        print(row(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
