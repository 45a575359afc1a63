"""`make`/`make_vec` with a bad key or id: one clear line, no trip through the package's internals (#12 item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback

import pytest

import macflow_arena
from macflow_arena.registry import UnknownEnvError
from macflow_arena.spec import SpecError


@pytest.mark.parametrize("call, error, words", [
    (lambda: macflow_arena.make("particle/spread", bad_key=1), SpecError, ("bad_key", "valid keys", "n_agents")),
    (lambda: macflow_arena.make("skirmish/3m", illegal_action="ignore"), SpecError, ("illegal_action", "raise, noop")),
    (lambda: macflow_arena.make_vec("particle/spread", 2, bad_key=1), SpecError, ("bad_key", "valid keys")),
    (lambda: macflow_arena.make("particle/sprad"), UnknownEnvError, ("particle/spread-v0", "macflow-arena list")),
])
def test_bad_make_is_one_line_from_make(call, error, words):
    with pytest.raises(error) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words), msg
    frames = traceback.extract_tb(info.tb)
    inside = [f for f in frames if os.path.basename(f.filename) != os.path.basename(__file__)]
    assert [(os.path.basename(f.filename), f.name) for f in inside] in ([("__init__.py", "make")], [("__init__.py", "make_vec")])
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_uncaught_bad_key_prints_a_short_traceback():
    code = "import macflow_arena\nmacflow_arena.make('particle/spread', bad_key=1)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) <= 5, out.stderr
    assert lines[-1].startswith("macflow_arena.spec.SpecError: particle/spread-v0: unknown override(s) bad_key;")
    assert "registry.py" not in out.stderr and "factory.py" not in out.stderr
