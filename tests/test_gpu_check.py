"""benchmarks/gpu_check.sh, the prepared device check, on its CPU path with tiny budgets: it records the
headline datasets it lacks, prints the speed table, trains every headline run for its time budget and
writes one summary row per run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_cpu_path(tmp_path):
    env = {**os.environ, "MACFLOW_ARENA_HOME": str(tmp_path / "home"), "DEVICE": "cpu", "PRESET": "small",
           "BUDGET": "1", "UPDATES": "2", "EPISODES": "12", "REF_EPISODES": "8", "EVAL_EPISODES": "2",
           "SPEED_ALGOS": "bc", "COMPILE": "off graph", "TRAIN_COMPILE": "graph", "OUT": str(tmp_path / "out"), "PYTHON": sys.executable,
           "SDL_VIDEODRIVER": "dummy"}
    r = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    speed = (tmp_path / "out" / "speed.md").read_text()
    assert "| small | bc | 512 | off | fp32 |" in speed  # preset, algo, batch, compile mode, precision
    assert "| small | bc | 512 | off | bf16 |" in speed  # the CPU default times bf16 autocast too
    assert "| small | bc | 512 | 8 | off |" in speed  # 8 seeds as one stacked update
    # a mode that cannot run here (graph needs CUDA) is a row that says so, not a lost table
    assert "| small | bc | 512 | graph | fp32 | failed |" in speed and "needs --device cuda" in speed
    assert "again with --compile off" in r.stdout  # the headline runs fall back from a failed capture
    rows = [x for x in (tmp_path / "out" / "summary.md").read_text().splitlines() if x.startswith("| particle") or x.startswith("| skirmish")]
    assert len(rows) == 6, rows
    for row in rows:
        assert row.split("|")[2].strip() == "off"
        updates = int(row.split("|")[3])
        assert updates >= 1
