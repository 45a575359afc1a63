"""Without torch, every command that needs it gives the same install hint (issue #12, item 4)."""

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


def test_play_team_train_and_eval_share_one_hint():
    hint = torch_hint()
    assert "--index-url https://download.pytorch.org/whl/cpu" in hint and 'macflow-arena[train]' in hint
    for argv in (["play", "particle/spread", "--team", "spread-bc", "--headless", "--frames", "1"],
                 ["train", "particle/spread", "--dataset", "x"],
                 ["eval", "some-run"]):
        rc, err = _run(*argv)
        assert rc == 2 and len(err.splitlines()) == 1, (argv, err)
        assert err.endswith(hint), (argv, err)
