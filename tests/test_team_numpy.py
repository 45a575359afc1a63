"""Teams act in plain numpy (``teams/numpy_act.py``): the same outputs as torch (within 1e-5; the same
argmax for discrete actions) for every one-forward algorithm, with and without an entity layout, for
exported team folders and every shipped team; and ``play --team`` runs where torch cannot be imported."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from _team_helpers import make_run, make_team, team_home  # noqa: E402

from macflow_arena.algos import make  # noqa: E402
from macflow_arena.algos.base import TeamSpec  # noqa: E402
from macflow_arena.resources import agents_dir  # noqa: E402
from macflow_arena.teams import load_team  # noqa: E402
from macflow_arena.teams.format import TeamError  # noqa: E402
from macflow_arena.teams.numpy_act import NUMPY_ACTORS, NumpyActor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-5
LAYOUT = (("self", ((0, 1, 2, 3),)), ("landmark", ((4, 5), (6, 7), (8, 9))), ("other", ((10, 11), (12, 13))))
CASES = [("macflow", False, {}), ("macflow", True, {}), ("macflow", False, {"noise": "private"}),
         ("macflow", False, {"actor_layer_norm": True}), ("bc", False, {}), ("bc", True, {"layer_norm": True}),
         ("td3bc", False, {}), ("vdn_cql", True, {})]


def _perturbed(algo, seed: int = 0):
    """Weights and observation statistics away from their initial values (zero biases, unit stats)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in algo.nets.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    d = algo.spec.obs_dim
    algo.set_obs_stats(torch.randn(d, generator=g), torch.rand(d, generator=g) + 0.5)
    return algo


def _inputs(spec, batch: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    obs = 2 * torch.randn(batch, spec.n_agents, spec.obs_dim, generator=g)
    avail = None
    if spec.discrete:
        avail = torch.rand(batch, spec.n_agents, spec.action_dim, generator=g) < 0.6
        avail[..., 0] = True
    return obs, avail


def _agree(algo, actor, batch: int = 64, seed: int = 1) -> float:
    """Largest |torch - numpy| over a batch (discrete: asserts the same actions, returns 0)."""
    obs, avail = _inputs(algo.spec, batch, seed)
    want = algo.act(obs, torch.Generator().manual_seed(3), avail).numpy()
    got = actor.act(obs.numpy(), np.random.default_rng(3), None if avail is None else avail.numpy())
    assert got.shape == want.shape
    if algo.spec.discrete:
        np.testing.assert_array_equal(got, want)
        return 0.0
    return float(np.abs(got - want).max())


@pytest.mark.parametrize("algo_name,discrete,overrides", CASES)
@pytest.mark.parametrize("entities", [(), LAYOUT], ids=["flat", "entities"])
def test_numpy_actor_matches_torch(algo_name, discrete, overrides, entities):
    spec = TeamSpec(n_agents=3, obs_dim=14, action_dim=5, discrete=discrete, entities=entities)
    algo = _perturbed(make(algo_name, spec, "small", seed=0, hidden=(64, 48, 32), **overrides))
    algo.nets.eval()
    assert _agree(algo, NumpyActor.from_algo(algo)) < TOL


def test_numpy_config_defaults_are_the_torch_ones():
    from macflow_arena.algos.registry import get

    for name, cls in NUMPY_ACTORS.items():
        torch_cfg = get(name).Config()
        for f in dataclasses.fields(cls.Fields):
            assert getattr(torch_cfg, f.name) == f.default, (name, f.name)


def test_macflow_noise_is_held_per_episode_and_follows_the_seed():
    spec = TeamSpec(n_agents=2, obs_dim=6, action_dim=2)
    algo = _perturbed(make("macflow", spec, "small", seed=0, hidden=(32, 32), exec_noise=1.0))
    actor = NumpyActor.from_algo(algo)
    obs = np.zeros((1, 2, 6), np.float32)
    rng = np.random.default_rng(5)
    a, b = actor.act(obs, rng), actor.act(obs, rng)
    np.testing.assert_array_equal(a, b)  # held: the same z at every step of the episode
    assert not np.array_equal(a, actor.act(obs, np.random.default_rng(6)))
    algo.set_execution(exec_noise_hold=False)
    fresh = NumpyActor.from_algo(algo)
    rng = np.random.default_rng(5)
    assert not np.array_equal(fresh.act(obs, rng), fresh.act(obs, rng))


def test_numpy_actor_checks_its_inputs():
    spec = TeamSpec(n_agents=2, obs_dim=6, action_dim=3, discrete=True)
    actor = NumpyActor.from_algo(make("bc", spec, "small", seed=0, hidden=(16, 16)))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"obs must have shape \[B, 2, 6\]"):
        actor.act(np.zeros((1, 2, 5)), rng)
    with pytest.raises(ValueError, match="no available action"):
        actor.act(np.zeros((1, 2, 6)), rng, np.zeros((1, 2, 3), bool))
    with pytest.raises(ValueError, match="NaN or inf"):
        actor.act(np.full((1, 2, 6), np.nan), rng)


# -- team folders -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with team_home(tmp_path_factory.mktemp("home")) as h:
        make_team([make_run(h, "particle/spread", "macflow")], "spread-macflow")
        make_team([make_run(h, "particle/spread", "td3bc")], "spread-td3bc")
        make_team([make_run(h, "skirmish/3m", "bc", episodes=6)], "3m-bc")
        make_team([make_run(h, "skirmish/3m", "vdn_cql", episodes=6)], "3m-vdn")
        make_team([make_run(h, "particle/spread", "flowbc")], "spread-flowbc")
        yield h


def _team_agree(ref) -> float:
    t = load_team(ref, backend="torch")
    n = load_team(ref, backend="numpy")
    assert n.algo.backend == "numpy" and n.spec == t.spec and n.agents == t.agents and n.label == t.label
    if getattr(t.algo.config, "exec_noise", 0.0):  # sampled noise: the streams differ, the networks must not
        import dataclasses

        t.algo.set_execution(exec_noise=0.0)
        n.algo.config = dataclasses.replace(n.algo.config, exec_noise=0.0)
    return _agree(t.algo, n.algo, batch=16)


@pytest.mark.parametrize("name", ["spread-macflow", "spread-td3bc", "3m-bc", "3m-vdn"])
def test_exported_team_acts_the_same_in_numpy(home, name):
    assert load_team(name).spec.entities  # trained on an env with an entity layout
    assert _team_agree(name) < TOL


def test_numpy_loader_runs_the_same_checks(home):
    folder = home / "teams" / "spread-macflow"
    w = folder / "weights.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.write_bytes(bytes(data))
    try:
        with pytest.raises(TeamError, match="sha256 .* differs"):
            load_team(folder, backend="numpy")
    finally:
        data[-1] ^= 1
        w.write_bytes(bytes(data))
    with pytest.raises(TeamError, match="flowbc: its acting is more than one forward pass.*needs torch"):
        load_team("spread-flowbc", backend="numpy")
    assert load_team("spread-flowbc", backend="play").algo.name == "flowbc"  # torch when numpy cannot


SHIPPED = sorted(p.name for p in agents_dir().iterdir() if (p / "config.json").exists())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_team_acts_the_same_in_numpy(name):
    ref = agents_dir() / name
    try:
        t = load_team(ref, backend="torch")
    except TeamError as e:
        pytest.fail(f"shipped team {name} does not load in torch ({e}); export it again")
    if t.algo.name not in NUMPY_ACTORS:
        pytest.skip(f"{t.algo.name} acts in torch only")
    assert _team_agree(ref) < TOL


# -- no torch -------------------------------------------------------------------------------------------------

BLOCK_TORCH = """
import sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch.") or name == "safetensors" or name.startswith("safetensors."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoTorch())
sys.argv = ["macflow-arena"] + sys.argv[1:]
from macflow_arena.cli import main
rc = main()
assert "torch" not in sys.modules
sys.exit(rc)
"""


def _without_torch(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MACFLOW_ARENA_HOME": str(home), "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH, *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_play_video_and_eval_with_a_team_without_torch(home, tmp_path):
    r = _without_torch("play", "particle/spread", "--team", "spread-macflow", "--seat", "agent_0=scripted",
                       "--headless", "--frames", "20", "--seed", "1", home=home)
    assert r.returncode == 0, r.stderr
    assert "20 frames" in r.stdout
    out = tmp_path / "v.gif"
    r = _without_torch("video", "skirmish/3m", "--team", "3m-bc", "--out", str(out), "--size", "64", "--quiet",
                       home=home)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0
    r = _without_torch("eval", "3m-bc", "--episodes", "4", "--json", home=home)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["team"] == "3m-bc" and res["backend"] == "numpy" and res["episodes"] == 4
    assert res["illegal_actions"] == 0  # the masks hold in the batched evaluation too
    r = _without_torch("play", "particle/spread", "--team", "spread-flowbc", "--headless", "--frames", "5",
                       "--seat", "agent_0=scripted", home=home)
    assert r.returncode != 0 and "needs torch" in r.stderr and "pip install" in r.stderr
