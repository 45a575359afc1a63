"""flowbc's source noise scale (``source_std``, 3 by default; quality.md session 24).

The flow runs from x0 ~ N(0, source_std^2) to the action: above the actions' scale the
field must read the observation for most of the flow's time (spread expert 81.8 -> 86.4 over
five seeds at 10,000 updates). Runs and teams saved before the field existed were trained
with 1 and load with 1.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT  # noqa: E402
from _team_helpers import make_run, team_home  # noqa: E402

from macflow_arena.algos import flowbc as flowbc_mod  # noqa: E402
from macflow_arena.algos import make, random_batch  # noqa: E402
from macflow_arena.algos.base import saved_config  # noqa: E402
from macflow_arena.algos.flowbc import FlowBCConfig  # noqa: E402


def _spy(monkeypatch, name: str, index: int):
    """Record argument ``index`` of every call to ``flowbc.<name>`` (the call still happens)."""
    seen, real = [], getattr(flowbc_mod, name)

    def spy(*args, **kw):
        seen.append(args[index].detach().clone())
        return real(*args, **kw)

    monkeypatch.setattr(flowbc_mod, name, spy)
    return seen


@pytest.mark.parametrize("std", [1.0, 3.0, 10.0])
def test_the_training_noise_has_the_source_std(monkeypatch, std):
    torch.set_num_threads(1)
    x0s = _spy(monkeypatch, "flow_matching_loss", 3)
    algo = make("flowbc", CONT, "small", seed=0, hidden=(16,), source_std=std)
    algo.update(random_batch(CONT, batch_size=64, horizon=8))
    assert len(x0s) == 1 and x0s[0].numel() >= 1000
    assert abs(x0s[0].std().item() / std - 1) < 0.1


@pytest.mark.parametrize("exec_noise", [0.0, 0.5, 1.0])
def test_execution_starts_from_exec_noise_times_the_source_std(monkeypatch, exec_noise):
    torch.set_num_threads(1)
    x0s = _spy(monkeypatch, "euler", 2)
    algo = make("flowbc", CONT, "small", seed=0, hidden=(16,), source_std=3.0, exec_noise=exec_noise)
    algo.act(torch.randn(2000, CONT.n_agents, CONT.obs_dim), torch.Generator().manual_seed(0))
    if exec_noise == 0:
        assert not x0s[0].any()  # the deterministic flow from the centre
    else:
        assert abs(x0s[0].std().item() / (3.0 * exec_noise) - 1) < 0.05


def test_the_default_is_3_and_a_bad_std_names_the_field():
    assert FlowBCConfig().source_std == 3.0
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="source_std"):
            make("flowbc", CONT, "small", seed=0, hidden=(16,), source_std=bad)


def test_a_config_saved_before_the_field_loads_with_the_std_it_was_trained_with():
    saved = {k: v for k, v in json.loads(json.dumps(FlowBCConfig().__dict__)).items() if k != "source_std"}
    assert saved_config(FlowBCConfig, saved).source_std == 1.0
    assert saved_config(FlowBCConfig, {**saved, "source_std": 3.0}).source_std == 3.0


def test_runs_and_teams_saved_before_the_field_act_as_they_were_trained(tmp_path, monkeypatch):
    """A run trained with std 1 and saved by a version without the field (its checkpoint and its
    exported team carry no ``source_std``) loads with 1, not today's default, and the team's weights
    check accepts it."""
    from macflow_arena.algos import base, checkpoint
    from macflow_arena.teams import load_team, weights

    real = base.config_to_dict

    def old_version(cfg):
        return {k: v for k, v in real(cfg).items() if k != "source_std"}

    with team_home(tmp_path):
        with monkeypatch.context() as mp:
            for mod in (base, checkpoint, weights):
                mp.setattr(mod, "config_to_dict", old_version)
            run = make_run(tmp_path, algo="flowbc", steps=2, source_std=1.0)
            from macflow_arena.teams import export_team

            export_team([run], "old-flowbc", episodes=1, device="cpu", execution=["exec_noise=1"])
        ckpt = sorted((run / "checkpoints").glob("*.safetensors"))[-1]
        assert "source_std" not in json.loads(ckpt.with_suffix(".json").read_text())["config"]
        assert checkpoint.load_checkpoint(ckpt).algo.config.source_std == 1.0
        cfg = json.loads((tmp_path / "teams" / "old-flowbc" / "config.json").read_text())
        assert "source_std" not in cfg["algo_config"] and cfg["algo_config"]["exec_noise"] == 1.0
        team = load_team("old-flowbc", backend="torch")
        assert team.algo.config.source_std == 1.0


def test_macflow_scales_the_teachers_noise_and_not_the_students(monkeypatch):
    """macflow's option (default 1): the teacher trains from and samples from N(0, std^2); the same
    draw unscaled is what the students read, so a team's noise is unchanged."""
    from macflow_arena.algos import macflow as macflow_mod

    torch.set_num_threads(1)
    seen = {}
    for name, index in (("flow_matching_loss", 3), ("euler", 2)):
        real = getattr(macflow_mod, name)

        def spy(*args, _real=real, _name=name, _i=index, **kw):
            seen[_name] = args[_i].detach().clone()
            return _real(*args, **kw)

        monkeypatch.setattr(macflow_mod, name, spy)
    algo = make("macflow", CONT, "small", seed=0, hidden=(16,), flow_steps=2, source_std=4.0)
    student, zs = algo.nets["student"], []
    real_fwd = student.forward
    monkeypatch.setattr(student, "forward", lambda o, z, mem=None: zs.append(z.detach().clone()) or real_fwd(o, z, mem))
    algo.update(random_batch(CONT, batch_size=64, horizon=8))
    assert abs(seen["flow_matching_loss"].std().item() / 4.0 - 1) < 0.1
    assert abs(seen["euler"].std().item() / 4.0 - 1) < 0.1
    assert zs and all(abs(z.std().item() - 1) < 0.15 for z in zs if z.numel() >= 500)
    with pytest.raises(ValueError, match="source_std"):
        make("macflow", CONT, "small", seed=0, hidden=(16,), source_std=0.0)
