"""``train --recipe NAME``: named MAC-Flow option sets (macflow_arena/algos/recipes.py)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, DISC  # noqa: E402

from macflow_arena.algos import make  # noqa: E402
from macflow_arena.algos.macflow import MACFlowConfig  # noqa: E402
from macflow_arena.algos.recipes import RECIPES, recipe_sets  # noqa: E402
from macflow_arena.cli import main  # noqa: E402
from macflow_arena.train.config import parse_overrides  # noqa: E402


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_is_a_valid_macflow_config_on_both_action_spaces(name):
    overrides = parse_overrides(recipe_sets(name, "macflow"), MACFlowConfig)
    assert overrides  # a recipe sets something
    for spec in (CONT, DISC):
        algo = make("macflow", spec, "small", seed=0, hidden=(16, 16), **overrides)
        for k, v in overrides.items():
            assert getattr(algo.config, k) == v


@pytest.fixture
def captured(monkeypatch):
    """Run ``train`` up to the trainer and keep the config it would train with."""
    import macflow_arena.train.trainer as trainer

    seen = {}

    def fake_train(cfg, resume=None, log=print):
        seen["cfg"] = cfg
        raise trainer.TrainError("stopped by the test")

    monkeypatch.setattr(trainer, "train", fake_train)
    return seen


def test_recipe_expands_into_overrides_and_a_set_next_to_it_wins(captured, capsys):
    argv = ["train", "particle/spread", "--dataset", "any", "--recipe", "noisy", "--set", "lr=0.001"]
    assert main(argv) == 2  # the fake trainer's stop
    assert captured["cfg"].overrides == {"alpha": 0.03, "lr": 0.001}
    assert "stopped by the test" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "nois"], "unknown recipe 'nois'; known: noisy, data, regress, filter"),
    (["--recipe", "noisy", "--algo", "bc"], "recipe 'noisy' sets MAC-Flow's options; use it with --algo macflow"),
])
def test_bad_recipes_are_refused_with_the_fix(argv, message, captured, capsys):
    assert main(["train", "particle/spread", "--dataset", "any", *argv]) == 2
    assert message in capsys.readouterr().err
    assert "cfg" not in captured  # refused before the trainer


@pytest.mark.parametrize("extra", [["--recipe", "noisy"], ["--set", "alpha=1"]])
def test_resume_refuses_new_options_instead_of_ignoring_them(extra, captured, capsys):
    assert main(["train", "--resume", "some-run", *extra]) == 2
    assert "drop --recipe/--set" in capsys.readouterr().err
    assert "cfg" not in captured


def test_list_recipes_names_each_with_its_options(capsys):
    assert main(["train", "--list-recipes"]) == 0
    out = capsys.readouterr().out
    for r in RECIPES.values():
        assert f"  {r.name}: --set " + " --set ".join(r.sets) in out


@pytest.mark.parametrize("name", [n for n, r in sorted(RECIPES.items()) if "flow_weight=0" in r.sets])
@pytest.mark.parametrize("discrete", [False, True], ids=["cont", "disc"])
def test_a_recipe_without_the_teacher_loss_trains_the_same_students(name, discrete):
    """The recipes whose students learn the recorded actions turn the unread teacher's loss off: with it on
    the students and critics come out bit-identical (the scores measured with it on stand)."""
    from macflow_arena.algos import random_batch

    overrides = parse_overrides(recipe_sets(name, "macflow"), MACFlowConfig)
    runs = []
    for flow_weight in (0.0, 1.0):
        algo = make("macflow", DISC if discrete else CONT, "small", seed=3, hidden=(16, 16), flow_steps=2,
                    **{**overrides, "flow_weight": flow_weight})
        g = torch.Generator().manual_seed(7)
        for _ in range(3):
            algo.update(random_batch(algo.spec, 16, 2, generator=g))
        runs.append(algo)
    fresh = make("macflow", DISC if discrete else CONT, "small", seed=3, hidden=(16, 16), flow_steps=2, **overrides)
    for net in ("student", "critic"):
        for (n, a), b in zip(runs[0].nets[net].named_parameters(), runs[1].nets[net].parameters()):
            assert torch.equal(a, b), f"{net}.{n}"
        assert any(not torch.equal(a, b) for a, b in zip(runs[0].nets[net].parameters(), fresh.nets[net].parameters()))
