"""The batch contract, the registry and the config dataclasses."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from _algo_helpers import CONT, DISC  # noqa: E402

from macflow_arena.algos import ALGOS, TeamSpec, get, make, make_config, random_batch  # noqa: E402
from macflow_arena.algos.batch import BatchError  # noqa: E402


@pytest.mark.parametrize("spec", [CONT, DISC], ids=["cont", "disc"])
def test_random_batch_satisfies_contract(spec):
    b = random_batch(spec, 8, 6, generator=torch.Generator().manual_seed(0))
    b.validate(spec)
    assert b.obs.shape == (8, 7, 3, 6) and b.rewards.shape == (8, 6) and b.alive.shape == (8, 7, 3)
    if spec.discrete:
        assert b.actions.dtype == torch.int64 and b.avail.shape == (8, 7, 3, spec.action_dim)
    else:
        assert b.actions.shape == (8, 6, 3, 2) and b.avail is None
    # Padding follows the episode end: mask is 1...1 0...0, terminated only on a real step.
    m = b.mask
    assert bool((m[:, 1:] <= m[:, :-1]).all())
    assert bool((b.terminated <= m).all())


def _bad(spec, **changes):
    b = random_batch(spec, 3, 4, generator=torch.Generator().manual_seed(1))
    return b.replace(**{k: (v(b) if callable(v) else v) for k, v in changes.items()})


@pytest.mark.parametrize(
    "spec,changes,pattern",
    [
        (CONT, {"obs": lambda b: b.obs[..., :5]}, r"^obs: expected N=3, D=6"),
        (CONT, {"obs": lambda b: b.obs[0]}, r"^obs must be a \[B, T\+1, N, D\] tensor"),
        (CONT, {"actions": lambda b: b.actions[:, :3]}, r"^actions: expected torch.float32 \(3, 4, 3, 2\)"),
        (CONT, {"actions": lambda b: b.actions * 3}, r"^actions: values outside \[-1, 1\]"),
        (CONT, {"actions": lambda b: b.actions.long()}, r"^actions: expected float32 vectors"),
        (CONT, {"rewards": lambda b: b.rewards.double()}, r"^rewards: expected torch.float32"),
        (CONT, {"mask": lambda b: b.mask.bool()}, r"^mask: expected torch.float32"),
        (CONT, {"mask": lambda b: b.mask * 0.5}, r"^mask: values must be 0 or 1"),
        (CONT, {"alive": lambda b: b.alive[:, :-1]}, r"^alive: expected torch.float32 \(3, 5, 3\)"),
        (CONT, {"terminated": lambda b: torch.ones_like(b.terminated)}, r"terminated"),
        (CONT, {"avail": lambda b: torch.ones(3, 5, 3, 2, dtype=torch.bool)}, r"^avail: must be None"),
        (CONT, {"state": lambda b: torch.full((3, 5, 4), float("inf"))}, r"^state: contains NaN or inf"),
        (DISC, {"avail": None}, r"^avail: required for discrete"),
        (DISC, {"actions": lambda b: b.actions + 5}, r"^actions: index outside \[0, 5\)"),
        (DISC, {"avail": lambda b: b.avail.float()}, r"^avail: expected torch.bool"),
        (DISC, {"actions": lambda b: b.actions.int()}, r"^actions: expected torch.int64"),
    ],
)
def test_validate_names_the_field(spec, changes, pattern):
    b = _bad(spec, **changes)
    with pytest.raises(BatchError, match=pattern):
        b.validate(spec)


def test_terminated_on_padding_rejected():
    b = random_batch(CONT, 4, 5, generator=torch.Generator().manual_seed(2), pad=False)
    mask = b.mask.clone()
    mask[0, 3:] = 0
    term = torch.zeros_like(b.terminated)
    term[0, 4] = 1
    with pytest.raises(BatchError, match="terminated: set on a padded step"):
        b.replace(mask=mask, terminated=term).validate(CONT)


def test_registry_and_errors():
    assert set(ALGOS) == {"macflow", "bc", "td3bc", "flowbc", "diffusion", "vdn_cql"}
    with pytest.raises(KeyError, match="did you mean 'macflow'"):
        get("macflwo")
    with pytest.raises(ValueError, match=r"unknown MACFlowConfig field\(s\) \['alpah'\]"):
        make_config("macflow", CONT, alpah=3.0)
    with pytest.raises(KeyError, match="unknown preset"):
        make_config("bc", CONT, preset="huge")
    with pytest.raises(ValueError, match="continuous actions only"):
        make("td3bc", DISC)
    with pytest.raises(ValueError, match="discrete actions only"):
        make("vdn_cql", CONT)
    with pytest.raises(ValueError, match=r"teacher='both': use one of"):
        make_config("macflow", CONT, teacher="both")
    with pytest.raises(TypeError, match="needs a BCConfig"):
        ALGOS["bc"](CONT, make_config("macflow", CONT))


def test_presets_and_auto_fields():
    small = make_config("macflow", CONT, "small")
    assert small.hidden == (128,) * 3 and small.gamma == 0.995 and small.alpha == 30.0
    paper_c = make_config("macflow", CONT, "paper")
    paper_d = make_config("macflow", DISC, "paper")
    assert paper_c.hidden == (512,) * 4 and paper_d.hidden == (256,) * 4
    assert paper_d.gamma == 0.99 and paper_d.alpha == 3.0
    assert make_config("macflow", CONT, "paper", alpha=0.3, hidden=[64, 64]).hidden == (64, 64)
    assert make_config("macflow", CONT).flow_steps == 10 and make_config("diffusion", CONT).steps == 100
    assert make_config("macflow", CONT).teacher == "joint"


@pytest.mark.parametrize("name", sorted(ALGOS))
def test_every_config_field_is_documented_and_frozen(name):
    cls = get(name).Config
    cfg = cls()
    for f in dataclasses.fields(cls):
        assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0  # type: ignore[misc]


def test_teamspec_checks():
    with pytest.raises(ValueError, match="n_agents must be a positive int"):
        TeamSpec(0, 4, 2)
    with pytest.raises(ValueError, match="action_dim"):
        TeamSpec(2, 4, 1, discrete=True)
    with pytest.raises(ValueError, match="action_dim: trained with 2, env has 5; discrete"):
        CONT.check_compatible(TeamSpec(3, 6, 5, discrete=True))


def test_missing_torch_gives_install_hint():
    code = "import sys; sys.modules['torch'] = None\ntry:\n import macflow_arena.algos\nexcept ImportError as e:\n print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install torch==2.13.0" in out.stdout and "macflow-arena[train]" in out.stdout, out.stdout + out.stderr


def test_state_dict_is_flat_tensors_with_optimizer_state():
    algo = make("macflow", CONT, hidden=(16, 16))
    sd = algo.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    n_params = sum(1 for k, m in algo.nets.items() if not k.startswith("target_") for _ in m.parameters())
    assert sum(k.endswith(".exp_avg") for k in sd) == n_params
    assert sd["meta.step"].item() == 0 and "rng.train" in sd
    # Before any update the optimizer state is Adam's lazy initial state: loading it
    # into a fresh instance and training matches training the original.
    other = make("macflow", CONT, hidden=(16, 16), seed=9)
    other.load_state_dict(sd)
    b = random_batch(CONT, 4, 3)
    assert algo.update(b) == other.update(b)
