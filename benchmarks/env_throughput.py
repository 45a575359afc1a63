"""Env throughput: agent-steps/s of particle/spread, ours (VectorEnv, ParallelEnv) vs mpe2.

Measured side by side in one process, round-robin (every repeat runs every
configuration once, so load from other processes hits all of them alike):

* ``ours-vector``  : ``macflow_arena.make_vec("particle/spread", B)`` (B=1024 by
  default), one ``step(actions[B, 3, 2])`` per iteration, same-step auto-reset
  included (every 25 steps).
* ``ours-parallel``: ``macflow_arena.make("particle/spread")``, the PettingZoo
  ParallelEnv (B=1): dict in, dict out, action validation, infos; ``reset()``
  after each 25-step episode is inside the timed loop.
* ``mpe2``         : ``mpe2.simple_spread_v3.parallel_env(N=3, max_cycles=25,
  continuous_actions=True)``, the same loop as ours-parallel.

What is timed: ``step`` (and ``reset`` at episode ends) only. Random actions
(uniform over each action space, seeded) are generated before the clock starts.
An agent-step is one agent acting in one world for one step: 3 per env step.

Run (mpe2 lives only in the benchmark venv, never in the main one)::

    python -m venv .bench_venv && .bench_venv/bin/pip install -e . mpe2
    .bench_venv/bin/python benchmarks/env_throughput.py            # prints + writes the table
    .bench_venv/bin/python benchmarks/env_throughput.py --no-write # prints only
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from macflow_arena.bench.env import MPE2_LABEL, measure, mpe2_parallel, ours_parallel, ours_vector  # noqa: E402
from macflow_arena.bench.timing import machine  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "env_throughput.md"
INSTALL_HINT = (
    "mpe2 is not installed in this interpreter; for the peer column run\n"
    "  python -m venv .bench_venv && .bench_venv/bin/pip install -e . mpe2\n"
    "  .bench_venv/bin/python benchmarks/env_throughput.py"
)


def git_rev() -> str:
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=repo).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "macflow_arena/envs"], capture_output=True,
                               text=True, timeout=5, cwd=repo).stdout.strip()
        return (head or "unknown") + (" + uncommitted changes in macflow_arena/envs" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--num-envs", type=int, default=1024, help="B for the VectorEnv")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats per configuration (median reported)")
    ap.add_argument("--seconds", type=float, default=1.0, help="approximate length of one repeat")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write benchmarks/results/env_throughput.md")
    ap.add_argument("--skip-skirmish", action="store_true", help="only the particle/spread comparison")
    ap.add_argument("--skirmish-seconds", type=float, default=3.0, help="time per skirmish measurement")
    args = ap.parse_args(argv)

    workloads = {
        f"ours VectorEnv B={args.num_envs}": ours_vector(args.num_envs),
        "ours ParallelEnv B=1": ours_parallel(),
    }
    have_mpe2 = True
    try:
        workloads[MPE2_LABEL] = mpe2_parallel()
    except ImportError:
        have_mpe2 = False

    load_before = os.getloadavg()
    rates = measure(workloads, args.repeats, args.seconds)
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in rates.items()}
    peer = med.get(MPE2_LABEL)
    targets = {f"ours VectorEnv B={args.num_envs}": 150.0, "ours ParallelEnv B=1": 2.0}

    rows = []
    for name, v in rates.items():
        spread = (max(v) - min(v)) / med[name] * 100
        ratio = f"{med[name] / peer:.1f}x" if peer else "n/a"
        target = f">= {targets[name]:g}x" if name in targets else "(peer)"
        ok = ("yes" if med[name] / peer >= targets[name] else "NO") if (peer and name in targets) else ""
        rows.append((name, f"{med[name]:,.0f}", f"{min(v):,.0f} .. {max(v):,.0f} ({spread:.0f}%)", ratio, target, ok))

    python = os.path.relpath(sys.executable) if not os.path.relpath(sys.executable).startswith("..") else sys.executable
    cmd = " ".join([python, "benchmarks/env_throughput.py"] + list(argv if argv is not None else sys.argv[1:]))
    header = ("configuration", "agent-steps/s (median)", f"min .. max of {args.repeats} (spread)", "vs mpe2",
              "target", "met")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)

    print(f"machine: {machine()}")
    print(f"repeats={args.repeats}, ~{args.seconds:g}s each, round-robin; median agent-steps/s")
    print(table)
    if not have_mpe2:
        print(INSTALL_HINT)
    load = f"1-min load average {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} cores"
    print(load)

    skirmish = ""
    if not args.skip_skirmish:
        from skirmish_throughput import skirmish_table  # benchmarks/ is on sys.path when run as a script

        print("\nskirmish: random legal actions (target: 3m at B=1024 above 200k agent-steps/s)")
        skirmish = (
            "\n## Skirmish, random legal actions\n\n"
            "Target: `skirmish/3m` at B=1024 above 200k agent-steps/s (JaxMARL's SMAX, jit-compiled on the same "
            "CPU class: about 210k at B=1024). One agent-step = one allied seat of one battle for one step "
            "(dead seats included, as JaxMARL counts). Measured after the table above, in the same process.\n\n"
            + skirmish_table(["skirmish/3m", "skirmish/gen-10v10"], [1, 1024], args.skirmish_seconds)
            + "\n"
        )

    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        note = "" if have_mpe2 else "\n" + INSTALL_HINT.replace("\n", "\n    ") + "\n"
        RESULTS.write_text(
            "# Env throughput: particle/spread (3 agents), agent-steps per second\n\n"
            f"Produced by `benchmarks/env_throughput.py` (code at {git_rev()}); "
            f"{time.strftime('%Y-%m-%d')}.\n\n"
            f"- Machine: {machine()}\n"
            f"- Command: `{cmd}`\n"
            f"- {load} (the cores are shared with other work, which slows all three configurations; "
            "they are measured round-robin in one process, so the ratios hold up better than the absolute numbers)\n"
            f"- Each configuration: warmup, then {args.repeats} repeats of ~{args.seconds:g}s, median reported. "
            "Timed: `step` (plus `reset` at episode ends; the VectorEnv auto-resets inside `step`). "
            "Random actions are pre-generated, not timed. One agent-step = one agent acting in one world for one step.\n"
            "- mpe2: `simple_spread_v3.parallel_env(N=3, max_cycles=25, continuous_actions=True)`; "
            "ours: `make_vec(\"particle/spread\", B)` and `make(\"particle/spread\")` (max_cycles=25, 3 agents, "
            "3 landmarks, float64 physics).\n\n"
            f"{table}\n{note}{skirmish}"
        )
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
