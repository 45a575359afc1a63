"""Team cards print commands anyone can rerun: no machine-specific paths, the dataset name that
`record` produces, the checkpoint's step (issue #12, item 7)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from macflow_arena.cli import build_parser
from macflow_arena.data.paths import default_name
from macflow_arena.data.suite import SUITE
from macflow_arena.teams.card import model_card

AGENTS = Path(__file__).resolve().parents[1] / "agents"
TEAMS = sorted(p.name for p in AGENTS.iterdir() if (p / "config.json").exists())


def _commands(card: str) -> list[list[str]]:
    training = card.split("## Training")[1].split("## Dataset")[0]
    blocks = re.findall(r"```\n(.*?)```", training, re.S)
    return [shlex.split(line) for b in blocks for line in b.splitlines() if line.startswith("macflow-arena ")]


@pytest.mark.parametrize("team", TEAMS)
def test_card_commands_rerun_anywhere(team):
    cfg = json.loads((AGENTS / team / "config.json").read_text())
    card = model_card(cfg)
    assert (AGENTS / team / "MODEL_CARD.md").read_text() == card  # the checked-in card is the generator's
    cmds = _commands(card)
    record = [c for c in cmds if c[1] == "record"]
    train = [c for c in cmds if c[1] == "train"]
    assert len(record) == 1 and len(train) == len(cfg["train"])
    parser = build_parser()
    rec = parser.parse_args(record[0][1:])  # every command parses with today's CLI
    label = (cfg["dataset"]["card"].get("behaviour") or {}).get("label", "executed")
    quality = cfg["dataset"]["card"]["quality"]
    if label == "executed":
        written = default_name(cfg["env_id"], quality)
        if rec.suite:  # a behaviour with a schedule (medium-replay): the suite writes each level under this name
            assert quality in SUITE and rec.name is None
        else:
            assert rec.name == written
    else:  # recovery labels are no suite level: the recipe is spelled out under the team's dataset name
        assert rec.name == cfg["dataset"]["name"] and rec.label == label and rec.noise > 0
        written = rec.name
    for c in train:
        args = parser.parse_args(c[1:])
        assert args.dataset == written  # trains on what the record command writes
        assert args.steps == cfg["source"]["step"]  # the weights' step, not the run's last
        assert args.out is None
        assert not any(a.startswith("/") or "/work/" in a for a in c), c
    assert "/work/" not in card
    assert f"`{cfg['dataset']['name']}`" in card and cfg["dataset"]["manifest_sha256"] in card
