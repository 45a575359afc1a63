"""Without torch, every command that needs it gives the same install hint (issue #12, item 4); exported
teams play without it (``tests/test_team_numpy.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

from macflow_arena.install import torch_hint

CODE = """
import sys
sys.modules["torch"] = None  # as if torch were not installed: `import torch` raises ImportError
from macflow_arena.cli import main
rc = main(sys.argv[1:])
sys.exit(rc)
"""


def _run(*argv):
    out = subprocess.run([sys.executable, "-c", CODE, *argv], capture_output=True, text=True, env=os.environ.copy(),
                         timeout=120)
    return out.returncode, out.stderr.strip()


def test_play_run_train_and_eval_share_one_hint(tmp_path):
    hint = torch_hint()
    assert "--index-url https://download.pytorch.org/whl/cpu" in hint and 'macflow-arena[train]' in hint
    run = tmp_path / "some-run"  # a training run (not an exported team, which plays in numpy without torch)
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    for argv in (["play", "particle/spread", "--team", str(run), "--headless", "--frames", "1"],
                 ["train", "particle/spread", "--dataset", "x"],
                 ["eval", "some-run"]):
        rc, err = _run(*argv)
        assert rc == 2 and len(err.splitlines()) == 1, (argv, err)
        assert err.endswith(hint), (argv, err)
