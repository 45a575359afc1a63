"""Thread defaults: train and act with the measured count (1), not torch's one-per-core (#12 item 2).

The speed itself is measured by benchmarks/threads.py (results/threads.md), never timed here.
"""

from __future__ import annotations

import json

import pytest

from macflow_arena.cli import main
from macflow_arena.threads import ENV_VAR, ThreadsError, default_threads, resolve_threads

torch = pytest.importorskip("torch")


def test_defaults_and_overrides(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_threads("train") == 1 and default_threads("act") == 1
    assert resolve_threads(0, "train") == 1 and resolve_threads(None, "act") == 1 and resolve_threads(3, "act") == 3
    monkeypatch.setenv(ENV_VAR, "4")
    assert resolve_threads(0, "train") == 4 and resolve_threads(2, "train") == 2
    monkeypatch.setenv(ENV_VAR, "many")
    with pytest.raises(ThreadsError, match=ENV_VAR):
        default_threads("act")
    with pytest.raises(ValueError, match="unknown kind"):
        default_threads("render")


def test_train_and_eval_commands_use_one_thread_by_default(tmp_path, monkeypatch, capsys):
    from _train_helpers import record_tiny

    monkeypatch.delenv(ENV_VAR, raising=False)
    data = record_tiny(tmp_path / "data", episodes=8)
    out = tmp_path / "run"
    seen = []
    from macflow_arena.algos import bc

    real = bc.BC.update_device

    def spy(self, batch):
        seen.append(torch.get_num_threads())
        return real(self, batch)

    monkeypatch.setattr(bc.BC, "update_device", spy)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(["train", "particle/spread", "--dataset", str(data), "--algo", "bc", "--steps", "3",
                     "--batch-size", "2", "--window", "3", "--eval-every", "0", "--eval-episodes", "0", "--device", "cpu",
                     "--no-progress", "--no-tensorboard", "--out", str(out), "--set", "hidden=16,16"]) == 0
        assert seen == [1, 1, 1]  # every update ran on one thread although torch was set to 2
        assert json.loads((out / "config.json").read_text())["train"]["threads"] == 1
        torch.set_num_threads(2)
        assert main(["eval", str(out), "--episodes", "2", "--json"]) == 0
        assert torch.get_num_threads() == 1
        assert main(["eval", str(out), "--episodes", "2", "--json", "--threads", "2"]) == 0
        assert torch.get_num_threads() == 2
        assert main(["eval", str(out), "--episodes", "2", "--threads", "-1"]) == 2
        assert "--threads must be >= 0" in capsys.readouterr().err
    finally:
        torch.set_num_threads(old)


def test_play_with_a_team_acts_on_one_thread(monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(["play", "particle/spread", "--team", "spread-bc", "--seat", "agent_0=scripted",
                     "--headless", "--frames", "3", "--seed", "0"]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(old)
