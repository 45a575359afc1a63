"""Every team shipped in agents/ loads and is small; every MAC-Flow team beats a random
team on its scenario (the batched evaluation, 64 held-out episodes). BC teams ship as
the baselines to compare with (cover-bc fails by design: it averages the joint plans)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from macflow_arena.resources import agents_dir  # noqa: E402

SHIPPED = sorted(p.name for p in agents_dir().iterdir() if (p / "config.json").exists())


def _listed_in_readme() -> list[str]:
    """Team names in the first column of agents/README.md's "Shipped teams" table."""
    text = (agents_dir() / "README.md").read_text().split("## Shipped teams", 1)[-1]
    return sorted(set(re.findall(r"^\| `([a-z0-9][a-z0-9._-]*)` \|", text, flags=re.M)))


def test_the_readme_lists_exactly_the_shipped_teams():
    assert SHIPPED, "no team ships in agents/"
    assert _listed_in_readme() == SHIPPED


def _random_return(env_id: str, episodes: int, seed: int) -> float:
    """Mean team return of uniform random actions (legal ones when masked), same protocol as evaluate()."""
    from macflow_arena import make_vec
    from macflow_arena.data.behaviours import RandomActor

    venv = make_vec(env_id, episodes)
    pol = RandomActor(venv, seed)
    obs, _ = venv.reset(seed=seed)
    ret = np.zeros(episodes)
    live = np.ones((episodes, venv.n_agents), dtype=bool)
    finished = np.zeros(episodes, dtype=bool)
    first = np.ones(episodes, dtype=bool)
    while not finished.all():
        a = pol.act_batch(obs, first)
        obs, rew, term, trunc, info = venv.step(a)
        first[:] = False
        if "active" in info:
            live = np.asarray(info["active"], dtype=bool)
        step_r = np.where(live, rew, 0.0).sum(-1) / np.maximum(live.sum(-1), 1)
        ret += np.where(finished, 0.0, step_r)
        finished |= np.asarray(info.get("done", np.zeros(episodes, dtype=bool)), dtype=bool)
    venv.close()
    return float(ret.mean())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_team_loads_is_small_and_beats_random(name):
    from macflow_arena.teams import load_team
    from macflow_arena.train.evaluate import evaluate

    folder = agents_dir() / name
    assert (folder / "weights.safetensors").stat().st_size < 2 * 1024 * 1024
    assert (folder / "MODEL_CARD.md").read_text().count("macflow-arena train") >= 1
    team = load_team(name)
    env_id = json.loads((folder / "config.json").read_text())["env_id"]
    if team.algo.name == "bc":
        return  # a baseline
    seed = 123_456
    res = evaluate(team.algo, env_id, episodes=64, seed=seed)
    rnd = _random_return(env_id, 64, seed)
    assert res["return_mean"] > rnd, (name, res["return_mean"], rnd)
    lo = res["return_ci95"][0]
    assert lo > rnd, f"{name}: the 95% CI of its return ({lo:.3f}..) overlaps random's mean {rnd:.3f}"
