"""`team retime`: a team's latency timed again on this machine, its card rewritten, its weights untouched."""

from __future__ import annotations

import json
import shutil

import pytest

torch = pytest.importorskip("torch")

from _team_helpers import make_run, make_team, team_home  # noqa: E402

from macflow_arena.cli import main  # noqa: E402
from macflow_arena.teams import TeamError, load_team  # noqa: E402
from macflow_arena.teams.format import CARD, CONFIG, WEIGHTS  # noqa: E402
from macflow_arena.teams.retime import retime_team  # noqa: E402


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with team_home(tmp_path_factory.mktemp("home")) as h:
        make_team([make_run(h, seed=0)], "spread-macflow", episodes=2)
        yield h


def _stale_copy(home, tmp_path, median=37.17):
    """A copy of the team whose card says a decision took ``median`` ms (a loaded machine at export)."""
    dst = tmp_path / "spread-macflow"
    shutil.copytree(home / "teams" / "spread-macflow", dst)
    cfg = json.loads((dst / CONFIG).read_text())
    cfg["latency_ms"]["median_ms"] = median
    (dst / CONFIG).write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    return dst


def test_retime_rewrites_the_latency_and_card_and_keeps_the_weights(home, tmp_path):
    team = _stale_copy(home, tmp_path)
    weights = (team / WEIGHTS).read_bytes()
    before, now = retime_team(team)
    assert before["median_ms"] == 37.17
    cfg = json.loads((team / CONFIG).read_text())
    assert cfg["latency_ms"] == now and now["median_ms"] != 37.17 and now["calls"] >= 200 and now["timed"]
    card = (team / CARD).read_text()
    assert f"median {now['median_ms']:.3f} ms" in card and "timed again" in card and "37.170" not in card
    assert (team / WEIGHTS).read_bytes() == weights
    assert sorted(p.name for p in team.iterdir()) == sorted([WEIGHTS, CONFIG, CARD])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    load_team(team)  # the weights digest in the config still matches


def test_dry_run_writes_nothing(home, tmp_path):
    team = _stale_copy(home, tmp_path)
    files = {p.name: p.read_bytes() for p in team.iterdir()}
    before, now = retime_team(team, write=False)
    assert before["median_ms"] == 37.17 and now["median_ms"] > 0
    assert {p.name: p.read_bytes() for p in team.iterdir()} == files


def test_cli_retime_prints_old_and_new(home, tmp_path, capsys):
    team = _stale_copy(home, tmp_path)
    assert main(["team", "retime", str(team)]) == 0
    out = capsys.readouterr().out
    assert "the card said 37.170 ms" in out and "ms per decision" in out
    assert json.loads((team / CONFIG).read_text())["latency_ms"]["median_ms"] != 37.17


def test_a_run_or_too_few_calls_is_refused_by_name(home, tmp_path, capsys):
    with pytest.raises(TeamError, match="not an exported team"):
        retime_team(home / "runs" / "particle-spread-macflow-s0")
    team = _stale_copy(home, tmp_path)
    assert main(["team", "retime", str(team), "--calls", "10"]) != 0
    assert "--calls 200" in capsys.readouterr().err
    assert json.loads((team / CONFIG).read_text())["latency_ms"]["median_ms"] == 37.17
