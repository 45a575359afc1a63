"""`demo --quick`: the whole loop through the real commands, every file under --out."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from macflow_arena.cli import main  # noqa: E402


def test_demo_quick_writes_dataset_runs_report_and_video(tmp_path, capsys):
    from macflow_arena.demo import available
    from macflow_arena.render.pg import pygame

    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for i, cmd in enumerate(["record particle/cover", "train particle/cover", "train particle/cover", "eval", "eval",
                             "team export", "team export", "video particle/cover --compare", "report"], 1):
        assert f"[{i}/9]" in printed and f"$ macflow-arena {cmd}" in printed
    assert (out / "datasets" / "cover-expert" / "manifest.jsonl").is_file()
    from macflow_arena.data import Dataset

    assert Dataset(out / "datasets" / "cover-expert").header["behaviour"]["label"] == "intended"  # recovery labels
    import json

    cfg = json.loads((out / "runs" / "cover-macflow" / "config.json").read_text())
    assert cfg["algo_config"]["student_lr"] == 0.003
    for run in ("cover-macflow", "cover-bc"):
        assert list((out / "runs" / run / "checkpoints").glob("step-*.safetensors")), run
        assert f"| {run} |" in (out / "report.md").read_text()
    md = (out / "report.md").read_text()
    assert "| macflow | 1 (0) |" in md and "| bc | 1 (0) |" in md and "coverage" in md
    assert pygame().image.load(str(out / "report.png")).get_size() == (760, 480)
    if available("video --compare"):
        assert (out / "compare.mp4").stat().st_size > 1000
    else:
        assert "render both teams side by side: skipped" in printed
    if available("team"):
        assert (out / "teams" / "cover-macflow").is_dir() and (out / "teams" / "cover-bc").is_dir()
    else:
        assert "export cover-macflow as a team: skipped" in printed


def test_demo_refuses_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "old.txt").write_text("keep me")
    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 2
    assert "not an empty folder; remove it or pass another --out" in capsys.readouterr().err
    assert (tmp_path / "old.txt").read_text() == "keep me"
